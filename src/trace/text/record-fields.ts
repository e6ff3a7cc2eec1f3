/**
 * Reads field values out of record bytes laid out per `layout.ts`. Never throws: a record shorter than its layout
 * (corruption, or an engine bug) reads as zeros / empty strings, because rendering must not take the reader down.
 */
import type { FieldLayout } from '../layout.js';

/** Records are written by the emitting thread in the machine's byte order. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Reads an integer of 1, 2 or 4 bytes as a number without allocating; out of range reads as 0. */
export function readSmallInt(data: Uint8Array, offset: number, size: number, signed: boolean): number {
  if (offset < 0 || offset + size > data.length) return 0;
  let v: number;
  if (size === 1) v = data[offset];
  else if (size === 2)
    v = HOST_LITTLE_ENDIAN ? data[offset] | (data[offset + 1] << 8) : (data[offset] << 8) | data[offset + 1];
  else if (size === 4) {
    v = HOST_LITTLE_ENDIAN
      ? (data[offset] | (data[offset + 1] << 8) | (data[offset + 2] << 16) | (data[offset + 3] << 24)) >>> 0
      : ((data[offset] << 24) | (data[offset + 1] << 16) | (data[offset + 2] << 8) | data[offset + 3]) >>> 0;
  } else return 0;
  if (signed) {
    const bits = 32 - size * 8;
    v = bits === 0 ? v | 0 : (v << bits) >> bits;
  }
  return v;
}

/** Reads one integer of `size` bytes at `offset`; sign-extends when `signed`. Out of range reads as 0. */
export function readInteger(data: Uint8Array, offset: number, size: number, signed: boolean): bigint {
  if (size !== 8) return BigInt(readSmallInt(data, offset, size, signed));
  if (offset < 0 || offset + 8 > data.length) return 0n;
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return signed ? v.getBigInt64(offset, HOST_LITTLE_ENDIAN) : v.getBigUint64(offset, HOST_LITTLE_ENDIAN);
}

/** Reads a scalar field (int or bool) as C would promote it. */
export function readIntField(data: Uint8Array, f: FieldLayout): bigint {
  return readInteger(data, f.offset, f.elemSize, f.signed);
}

/** Bytes up to the first NUL (or the end). */
function untilNul(bytes: Uint8Array): Uint8Array {
  const nul = bytes.indexOf(0);
  return nul < 0 ? bytes : bytes.subarray(0, nul);
}

export function decodeBytes(bytes: Uint8Array): string {
  // TextDecoder beats hand-rolled ASCII loops even for short strings.
  return bytes.length === 0 ? '' : decoder.decode(bytes);
}

/** Where a `__data_loc` field's bytes are: clamped to the record. */
export function dataLocBytes(data: Uint8Array, f: FieldLayout): Uint8Array {
  const loc = readSmallInt(data, f.offset, 4, false);
  const off = loc & 0xffff;
  const len = loc >>> 16;
  if (off >= data.length) return data.subarray(0, 0);
  return data.subarray(off, Math.min(off + len, data.length));
}

/** A `string` (`__data_loc char[]`) or `char[N]` field as text, stopping at the first NUL like `%s`. */
export function readStringField(data: Uint8Array, f: FieldLayout): string {
  if (f.kind === 'string') return decodeBytes(untilNul(dataLocBytes(data, f)));
  const start = Math.min(f.offset, data.length);
  return decodeBytes(untilNul(data.subarray(start, Math.min(f.offset + f.size, data.length))));
}
