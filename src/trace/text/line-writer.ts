/**
 * Text written straight into bytes: the `trace` / `trace_pipe` lines are formatted into the reply's buffer, never
 * built as JS strings and encoded (which, with the per-line garbage, cost more than the formatting itself).
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });
const ZERO = 0x30;
const SPACE = 0x20;
const DOT = 0x2e;

export class LineWriter {
  buf: Uint8Array;
  /** Bytes written so far: the text is `buf[0, pos)`. */
  pos = 0;

  constructor(capacity = 4096) {
    this.buf = Buffer.allocUnsafe(Math.max(64, capacity));
  }

  /** Starts over in a fresh buffer of `capacity` bytes (the previous one belongs to whoever took it). */
  renew(capacity: number): void {
    this.buf = Buffer.allocUnsafe(Math.max(64, capacity));
    this.pos = 0;
  }

  /** Starts over in memory lent by the caller (a transport's reply buffer); it grows out of it only if it must. */
  lend(buf: Uint8Array): void {
    this.buf = buf;
    this.pos = 0;
  }

  /** Room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  byte(b: number): void {
    if (this.pos >= this.buf.length) this.reserve(1);
    this.buf[this.pos++] = b;
  }

  /** Bytes copied as they are (a precomputed template, a held line). */
  bytes(src: Uint8Array, from = 0, to = src.length): void {
    const n = to - from;
    if (this.pos + n > this.buf.length) this.reserve(n);
    const buf = this.buf;
    let p = this.pos;
    if (n >= 16) {
      // memcpy; a whole template needs no subarray view.
      buf.set(from === 0 && to === src.length ? src : src.subarray(from, to), p);
      this.pos = p + n;
      return;
    }
    for (let i = from; i < to; i++) buf[p++] = src[i];
    this.pos = p;
  }

  /** Any string, as UTF-8. */
  text(s: string): void {
    const n = s.length;
    this.reserve(n);
    const buf = this.buf;
    let p = this.pos;
    if (n <= 64) {
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p++] = c;
      }
      this.pos = p;
      if (i === n) return;
      s = s.slice(i);
    }
    this.reserve(s.length * 3);
    this.pos += encoder.encodeInto(s, this.buf.subarray(this.pos)).written;
  }

  /**
   * Record bytes that the text shows as a string: the same bytes as decoding them (bad UTF-8 becoming U+FFFD) and
   * encoding the result would give — copied as they are when they are ASCII, the common case. Stops at a NUL, as
   * `%s` does. Returns the last byte written (-1 when none), for callers that end a line on it.
   */
  utf8(src: Uint8Array, from: number, to: number): number {
    const n = to - from;
    this.reserve(n);
    const buf = this.buf;
    const start = this.pos;
    let p = start;
    let i = from;
    for (; i < to; i++) {
      const c = src[i];
      if (c === 0 || c >= 0x80) break;
      buf[p++] = c;
    }
    if (i < to && src[i] !== 0) {
      let end = src.indexOf(0, i);
      if (end < 0 || end > to) end = to;
      this.pos = start;
      this.text(decoder.decode(src.subarray(from, end)));
      return this.pos > start ? this.buf[this.pos - 1] : -1;
    }
    this.pos = p;
    return p > start ? buf[p - 1] : -1;
  }

  /** A non-negative integer in decimal, right-aligned with `pad` (a space or '0') to `width` bytes. */
  uint(v: number, width = 0, pad = SPACE): void {
    if (!(v >= 0 && v <= 0x7fffffff && (v | 0) === v)) {
      if (v > 0x7fffffff && v <= Number.MAX_SAFE_INTEGER && Number.isInteger(v)) {
        this.bigUint(v, width, pad);
        return;
      }
      const s = String(v);
      for (let k = s.length; k < width; k++) this.byte(pad);
      this.text(s);
      return;
    }
    // Small integers: int32 arithmetic only (no double division per digit).
    let digits = 1;
    for (let x = v; x >= 10; x = (x / 10) | 0) digits++;
    const len = Math.max(digits, width);
    if (this.pos + len > this.buf.length) this.reserve(len);
    const buf = this.buf;
    const p = this.pos;
    let q = p + len;
    this.pos = q;
    let x = v;
    for (let k = 0; k < digits; k++) {
      const t = (x / 10) | 0;
      buf[--q] = ZERO + (x - t * 10);
      x = t;
    }
    while (q > p) buf[--q] = pad;
  }

  /** `uint` of an integer from 2^31 to 2^53: double arithmetic, exact in that range. */
  private bigUint(v: number, width: number, pad: number): void {
    let digits = 1;
    for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
    const len = Math.max(digits, width);
    if (this.pos + len > this.buf.length) this.reserve(len);
    const buf = this.buf;
    const p = this.pos;
    let q = p + len;
    this.pos = q;
    let x = v;
    for (let k = 0; k < digits; k++) {
      const t = Math.floor(x / 10);
      buf[--q] = ZERO + (x - t * 10);
      x = t;
    }
    while (q > p) buf[--q] = pad;
  }

  /** A safe integer in decimal, `-` first when negative (`%d` with no flags). */
  int(v: number): void {
    if (v < 0) {
      this.byte(0x2d);
      v = -v;
    }
    this.uint(v);
  }

  /**
   * `%5lu.%06lu` of a count of microseconds below 2^31 seconds (the trace clock's column). Int32 arithmetic only: this
   * runs for every line.
   */
  secondsMicros(us: number): void {
    let sec = Math.floor(us / 1_000_000);
    let frac = us - sec * 1_000_000;
    if (!(sec >= 0 && sec <= 0x7fffffff)) {
      this.uint(sec, 5);
      this.byte(DOT);
      this.uint(frac, 6, ZERO);
      return;
    }
    let digits = 1;
    for (let x = sec; x >= 10; x = (x / 10) | 0) digits++;
    const secLen = Math.max(digits, 5);
    if (this.pos + secLen + 7 > this.buf.length) this.reserve(secLen + 7);
    const buf = this.buf;
    const p = this.pos;
    let q = p + secLen + 7;
    this.pos = q;
    for (let k = 0; k < 6; k++) {
      const t = (frac / 10) | 0;
      buf[--q] = ZERO + (frac - t * 10);
      frac = t;
    }
    buf[--q] = DOT;
    for (let k = 0; k < digits; k++) {
      const t = (sec / 10) | 0;
      buf[--q] = ZERO + (sec - t * 10);
      sec = t;
    }
    while (q > p) buf[--q] = SPACE;
  }

  /** The text written so far, as a string (for the few callers that want one). */
  toString(): string {
    return decoder.decode(this.buf.subarray(0, this.pos));
  }
}
