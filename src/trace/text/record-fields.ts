/**
 * Reads field values out of record bytes laid out per `layout.ts`. Never throws: a record shorter than its layout
 * (corruption, or an engine bug) reads as zeros / empty strings, because rendering must not take the reader down.
 */
import type { FieldLayout } from '../layout.js';

/** Records are written by the emitting thread in the machine's byte order. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const decoder = new TextDecoder('utf-8', { fatal: false });

function view(data: Uint8Array): DataView {
  return new DataView(data.buffer, data.byteOffset, data.byteLength);
}

/** Reads one integer of `size` bytes at `offset`; sign-extends when `signed`. Out of range reads as 0. */
export function readInteger(data: Uint8Array, offset: number, size: number, signed: boolean): bigint {
  if (offset < 0 || offset + size > data.length) return 0n;
  const v = view(data);
  switch (size) {
    case 1:
      return BigInt(signed ? v.getInt8(offset) : v.getUint8(offset));
    case 2:
      return BigInt(signed ? v.getInt16(offset, HOST_LITTLE_ENDIAN) : v.getUint16(offset, HOST_LITTLE_ENDIAN));
    case 4:
      return BigInt(signed ? v.getInt32(offset, HOST_LITTLE_ENDIAN) : v.getUint32(offset, HOST_LITTLE_ENDIAN));
    case 8:
      return signed ? v.getBigInt64(offset, HOST_LITTLE_ENDIAN) : v.getBigUint64(offset, HOST_LITTLE_ENDIAN);
    default:
      return 0n;
  }
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
  // Pure ASCII is by far the common case and needs no decoder.
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii && bytes.length < 64) return String.fromCharCode(...bytes);
  return decoder.decode(bytes);
}

/** Where a `__data_loc` field's bytes are: clamped to the record. */
export function dataLocBytes(data: Uint8Array, f: FieldLayout): Uint8Array {
  const loc = Number(readInteger(data, f.offset, 4, false));
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

/** The elements of a fixed integer array, unsigned (as the kernel's __print_array reads them). */
export function readArrayElements(data: Uint8Array, f: FieldLayout): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < f.count; i++) out.push(readInteger(data, f.offset + i * f.elemSize, f.elemSize, false));
  return out;
}

/** The kernel's `__print_array()` text: `{0x1,0x2}`. */
export function formatArray(data: Uint8Array, f: FieldLayout): string {
  let s = '{';
  for (let i = 0; i < f.count; i++) {
    if (i > 0) s += ',';
    s += `0x${readInteger(data, f.offset + i * f.elemSize, f.elemSize, false).toString(16)}`;
  }
  return `${s}}`;
}
