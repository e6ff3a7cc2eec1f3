/** A little-endian byte builder for trace.dat's metadata (small: headers, formats, options; never ring pages). */
export class Bytes {
  private buf = Buffer.alloc(4096);
  private len = 0;

  get length(): number {
    return this.len;
  }

  private room(n: number): number {
    if (this.len + n > this.buf.length) {
      const next = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    const at = this.len;
    this.len += n;
    return at;
  }

  u16(v: number): this {
    this.buf.writeUInt16LE(v, this.room(2));
    return this;
  }

  u32(v: number): this {
    this.buf.writeUInt32LE(v >>> 0, this.room(4));
    return this;
  }

  u64(v: number | bigint): this {
    this.buf.writeBigUInt64LE(BigInt(v), this.room(8));
    return this;
  }

  bytes(b: Uint8Array): this {
    this.buf.set(b, this.room(b.length));
    return this;
  }

  /** A string and its terminating NUL. */
  cstr(s: string): this {
    return this.bytes(Buffer.from(`${s}\0`, 'utf8'));
  }

  /** Overwrites a u64 written earlier (offsets known only once what follows is laid out). */
  patchU64(at: number, v: number): void {
    this.buf.writeBigUInt64LE(BigInt(v), at);
  }

  toBuffer(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}
