/**
 * How a JS value passed to `emit` becomes the bytes of a record — and therefore what a filter, trigger or histogram
 * must compare. These mirror the engine's encoder (src/trace/encoder.ts) so that the filter's emit-time predicate,
 * its record-time evaluator and the stored record agree (a test runs the real encoder to check it):
 *
 * - integers up to 32 bits: a number is stored with typed-array wrapping (fraction dropped, NaN/±Inf → 0); a string
 *   through Number(); a bigint wrapped to 32 bits; a boolean as 0/1; anything else as 0.
 * - 64-bit integers: a bigint wraps; a finite number is truncated then wrapped; a boolean is 0/1; anything else 0.
 * - bool: truthiness → 0/1.
 * - string / char[N]: a string as is, anything else through String() (null/undefined → ''); UTF-8; char[N] keeps
 *   the first N bytes without splitting a character. Embedded NULs are stored, so C string functions stop there.
 */

/** Best-effort number of a ≤32-bit integer field value (before wrapping), as the encoder computes it. */
export function toNumberSafe(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(BigInt.asIntN(32, v));
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const n = Number(v);
    return Number.isFinite(n) ? Math.trunc(n) : 0;
  }
  return 0;
}

/** Wraps to an integer of `size` bytes (1, 2 or 4), signed or not, like a typed-array store. */
export function toInt32Like(v: unknown, size: number, signed: boolean): number {
  const n = toNumberSafe(v) | 0;
  switch (size) {
    case 1:
      return signed ? (n << 24) >> 24 : n & 0xff;
    case 2:
      return signed ? (n << 16) >> 16 : n & 0xffff;
    default:
      return signed ? n | 0 : n >>> 0;
  }
}

/** Wraps to a 64-bit integer as a bigint. */
export function toInt64(v: unknown, signed: boolean): bigint {
  let b = 0n;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number') b = Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
  else if (typeof v === 'boolean') b = v ? 1n : 0n;
  return signed ? BigInt.asIntN(64, b) : BigInt.asUintN(64, b);
}

/** Any integer field as a bigint of its width (used by slow paths and histograms). */
export function toIntBig(v: unknown, size: number, signed: boolean): bigint {
  if (size === 8) return toInt64(v, signed);
  return BigInt(toInt32Like(v, size, signed));
}

export function toBool(v: unknown): number {
  return v ? 1 : 0;
}

/** The JS string the encoder writes for a string or char[N] field. */
export function toStringValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  try {
    return String(v);
  } catch {
    return '';
  }
}

/** What C string functions see of a stored string: everything before the first NUL. */
export function cutAtNul(s: string): string {
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a string value. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** The N bytes of a char[N] field: UTF-8, truncated at a character boundary, zero-padded. */
export function toCharsBytes(v: unknown, n: number): Uint8Array {
  const out = new Uint8Array(n);
  encoder.encodeInto(toStringValue(v), out);
  return out;
}

/** The bytes of an integer array field (little-endian, as the record stores them). */
export function toArrayBytes(v: unknown, elemSize: number, count: number, signed: boolean): Uint8Array {
  const out = new Uint8Array(elemSize * count);
  const dv = new DataView(out.buffer);
  let arr: ArrayLike<unknown> | undefined;
  if (v !== null && typeof v === 'object' && typeof (v as { length?: unknown }).length === 'number') {
    arr = v as ArrayLike<unknown>;
  }
  if (!arr) return out;
  const n = Math.min(count, arr.length >>> 0);
  for (let i = 0; i < n; i++) {
    let e: unknown;
    try {
      e = arr[i];
    } catch {
      e = 0;
    }
    if (elemSize === 8) dv.setBigUint64(i * 8, toInt64(e, signed) & 0xffffffffffffffffn, true);
    else if (elemSize === 4) dv.setUint32(i * 4, toInt32Like(e, 4, false), true);
    else if (elemSize === 2) dv.setUint16(i * 2, toInt32Like(e, 2, false), true);
    else dv.setUint8(i, toInt32Like(e, 1, false));
  }
  return out;
}

/** Reads a little-endian integer of `size` bytes (1/2/4/8) from bytes, as the kernel would load it; bigint for 8. */
export function readIntLE(bytes: Uint8Array, offset: number, size: number, signed: boolean): number | bigint {
  return loadIntLE(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset, size, signed);
}

/** As readIntLE, from a DataView the caller already has (a record being tested). */
export function loadIntLE(dv: DataView, offset: number, size: number, signed: boolean): number | bigint {
  switch (size) {
    case 1:
      return signed ? dv.getInt8(offset) : dv.getUint8(offset);
    case 2:
      return signed ? dv.getInt16(offset, true) : dv.getUint16(offset, true);
    case 4:
      return signed ? dv.getInt32(offset, true) : dv.getUint32(offset, true);
    default:
      return signed ? dv.getBigInt64(offset, true) : dv.getBigUint64(offset, true);
  }
}
