/**
 * Column data in ClickHouse's binary encoding (what the Native and RowBinary formats carry), written straight from
 * page bytes into growing buffers. An event's integer fields are already little-endian in the record, so they are
 * copied byte for byte; strings are a length (LEB128) and their bytes up to the NUL — no number is turned into text,
 * no string is decoded, and no JS object is made per record (the text rows this replaced spent a third of the
 * shipper's time in the GC).
 */
import type { FieldLayout } from '../trace/layout.js';

const TWO32 = 4294967296;

export class ColumnBuffer {
  buf: Buffer;
  pos = 0;

  constructor(initial = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Makes room for `n` more bytes (doubling: a batch is copied about once in all). */
  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    this.buf[this.pos++] = v;
  }

  u32(v: number): void {
    const b = this.buf;
    const p = this.pos;
    b[p] = v;
    b[p + 1] = v >>> 8;
    b[p + 2] = v >>> 16;
    b[p + 3] = v >>> 24;
    this.pos = p + 4;
  }

  /** A UInt64 from a non-negative integer below 2^53 (or an Int64 of -1 when `v` is -1). */
  u64(v: number): void {
    if (v < 0) {
      this.u32(0xffffffff);
      this.u32(0xffffffff);
      return;
    }
    const lo = v % TWO32;
    this.u32(lo);
    this.u32((v - lo) / TWO32);
  }

  varUInt(v: number): void {
    const b = this.buf;
    while (v >= 0x80) {
      b[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[this.pos++] = v;
  }

  /** Copies `n` bytes of `src` from `at` (a loop for the short copies that dominate: no call into C++). */
  bytes(src: Uint8Array, at: number, n: number): void {
    const b = this.buf;
    const p = this.pos;
    if (n < 32) for (let i = 0; i < n; i++) b[p + i] = src[at + i];
    else b.set(src.subarray(at, at + n), p);
    this.pos = p + n;
  }

  /** A String column: the bytes of `src[from..to)` up to the first NUL. */
  cString(src: Uint8Array, from: number, to: number): void {
    let end = from;
    while (end < to && src[end] !== 0) end++;
    this.varUInt(end - from);
    this.bytes(src, from, end - from);
  }

  /** A String column from JS text (UTF-8). */
  string(s: string): void {
    const n = Buffer.byteLength(s);
    this.room(n + 5);
    this.varUInt(n);
    this.pos += this.buf.write(s, this.pos);
  }
}

/**
 * Field `f` of the record at `page[rec..rec+len)` appended to its column. An array's elements only: its length is the
 * same in every row (the column's offsets are written when the block is encoded).
 */
export function writeField(out: ColumnBuffer, f: FieldLayout, page: Uint8Array, rec: number, len: number): void {
  const at = rec + f.offset;
  out.room(f.kind === 'string' || f.kind === 'chars' ? len + 5 : f.count * f.elemSize);
  switch (f.kind) {
    case 'int':
      out.bytes(page, at, f.elemSize);
      break;
    case 'bool':
      out.u8(page[at] ? 1 : 0);
      break;
    case 'string': {
      const loc = page[at] | (page[at + 1] << 8) | (page[at + 2] << 16) | (page[at + 3] << 24);
      const from = rec + (loc & 0xffff);
      out.cString(page, from, Math.min(from + (loc >>> 16), rec + len));
      break;
    }
    case 'chars':
      out.cString(page, at, at + f.count);
      break;
    case 'array':
      out.bytes(page, at, f.count * f.elemSize);
      break;
  }
}
