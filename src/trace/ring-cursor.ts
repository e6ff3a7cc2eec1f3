/**
 * Reading one ring from any thread, without locks. A cursor walks pages in sequence order, decoding event headers
 * (time extends, absolute stamps, padding) up to each page's commit word. Every record is copied out and then
 * validated against the page's tag: if the writer reclaimed the page meanwhile, the copy is discarded and the
 * cursor jumps to the oldest page still in the ring.
 *
 * Two modes: `iterate` (the `trace` file: reads what is unconsumed, stops at the end seen when it was created) and
 * `consume` (trace_pipe: takes records by bumping the page's consumed count with a compare-and-swap, so each
 * record is consumed once and the writer's overrun count stays exact).
 */
import {
  F_READ,
  F_READ_BYTES,
  MAX_SMALL_DATA,
  PAGE_HEADER,
  PAGE_SIZE,
  R_READ_SEQ,
  R_TAIL_SEQ,
  R_UID,
  type RingViews,
  TYPE_PADDING,
  TYPE_TIME_EXTEND,
  TYPE_TIME_STAMP,
} from './ring.js';

const DELTA_UNIT = 1 << 27;
const TWO32 = 4294967296;

/** End of committed data in the page at byte `pb`, kept inside the page whatever the memory holds. */
function commitEnd(i32: Int32Array, pb: number): number {
  const c = Atomics.load(i32, (pb + 8) >> 2);
  return c >= 0 && c <= PAGE_SIZE - PAGE_HEADER ? PAGE_HEADER + c : PAGE_HEADER;
}

/**
 * Records are copied out into slices of a shared pool (as Node's Buffer pool does): a fresh ArrayBuffer per record
 * cost more than formatting its line. A record held long keeps its pool chunk alive; none is held past its use.
 */
const POOL_SIZE = 64 * 1024;
let pool = new ArrayBuffer(POOL_SIZE);
let poolUsed = 0;

function copyOut(src: Uint8Array, from: number, len: number): Uint8Array {
  if (len > POOL_SIZE >> 3) return src.slice(from, from + len);
  if (poolUsed + len > POOL_SIZE) {
    pool = new ArrayBuffer(POOL_SIZE);
    poolUsed = 0;
  }
  const out = new Uint8Array(pool, poolUsed, len);
  for (let i = 0; i < len; i++) out[i] = src[from + i];
  poolUsed += (len + 7) & ~7; // 8-aligned, for readers that view a record's words
  return out;
}

/** A record copied out of a ring. */
export interface RawRecord {
  readonly cpu: number;
  /** Timestamp (ns, or ticks for raw clocks). */
  readonly ts: number;
  /** Payload from common_type. */
  readonly data: Uint8Array;
}

/** The cursor's one RawRecord, filled again for every record `peek` finds (no object per record). */
interface HeadRecord {
  cpu: number;
  ts: number;
  data: Uint8Array;
}

const EMPTY = new Uint8Array(0);
/** How far past the oldest page a consumer the writer keeps lapping starts again (256 KiB; 8 pages were too few). */
const LAP_SKIP = 64;

export class RingCursor {
  readonly v: RingViews;
  readonly cpu: number;
  readonly consume: boolean;
  private readonly uid: number;
  private readonly n: number;
  private seq = -1;
  private off = PAGE_HEADER;
  private idx = 0;
  private ts = 0;
  /** The record `peek` found, not yet taken (`rec`, or undefined). */
  private head: HeadRecord | undefined;
  private readonly rec: HeadRecord;
  /**
   * With `reuse`, records are copied into one buffer per record length owned by the cursor (valid until the cursor
   * moves on), not into the shared pool: no allocation per record for readers that format it at once.
   */
  private readonly reuse: boolean;
  private readonly byLength: Array<Uint32Array | undefined> = [];
  private readonly byLengthBytes: Array<Uint8Array | undefined> = [];
  private headIdx = 0;
  private limitSeq = Number.MAX_SAFE_INTEGER;
  private limitOff = Number.MAX_SAFE_INTEGER;
  /** End of the data known committed in page `endSeq` when `peek` last looked (its fast path reads up to it). */
  private endSeq = -1;
  private endOff = 0;
  /** A consumer: the writer lapped it and it has not caught up with the writer since (see `afterLap`). */
  private lapped = false;

  constructor(v: RingViews, cpu: number, consume: boolean, reuse = false) {
    this.v = v;
    this.cpu = cpu;
    this.consume = consume;
    this.reuse = reuse;
    this.rec = { cpu, ts: 0, data: EMPTY };
    this.uid = v.h[R_UID];
    this.n = v.geo.nPages;
    if (!consume) {
      // `trace` shows what is in the buffer now; records written while it is being read are left for later.
      const tail = Atomics.load(v.h, R_TAIL_SEQ);
      this.limitSeq = tail;
      this.limitOff = tail < 0 ? 0 : commitEnd(v.i32, (tail % this.n) * PAGE_SIZE);
    }
  }

  /** Sequence number of the ring page the cursor is in (-1 before the first `peek`). */
  get pageSeq(): number {
    return this.seq;
  }

  /** Whether the ring memory still belongs to the ring this cursor was opened on. */
  valid(): boolean {
    return this.v.h[R_UID] === this.uid;
  }

  private tagOk(seq: number): boolean {
    return Atomics.load(this.v.pageState, seq % this.n) >>> 16 === (seq & 0xffff);
  }

  private enter(seq: number): void {
    this.seq = seq;
    this.off = PAGE_HEADER;
    this.idx = 0;
    const pb = (seq % this.n) * PAGE_SIZE;
    this.ts = this.v.u32[pb >> 2] + this.v.u32[(pb >> 2) + 1] * TWO32;
    this.head = undefined;
  }

  /**
   * Decodes the event at this.off; returns 1 for a data record (this.head set, not copied yet validated), 0 for
   * a non-data event (consumed into the running timestamp), -1 at the end of committed data.
   */
  private step(pb: number, end: number, copy: boolean): number {
    const v = this.v;
    const off = this.off;
    if (off + 4 > end) return -1;
    const hdr = v.u32[(pb + off) >> 2];
    const type = hdr & 31;
    const delta = hdr >>> 5;
    if (type === TYPE_PADDING) {
      if (delta === 0 || off + 8 > end) return -1; // the rest of the page is padding
      const len = v.u32[(pb + off + 4) >> 2];
      if ((len & 3) !== 0) return -1; // corrupt: every length in a ring is a multiple of 4
      this.off = off + 4 + Math.max(4, len);
      return 0;
    }
    if (type === TYPE_TIME_EXTEND || type === TYPE_TIME_STAMP) {
      if (off + 8 > end) return -1;
      const hi = v.u32[(pb + off + 4) >> 2];
      const value = delta + hi * DELTA_UNIT;
      this.ts = type === TYPE_TIME_EXTEND ? this.ts + value : value;
      this.off = off + 8;
      return 0;
    }
    let len: number;
    let data: number;
    if (type === 0) {
      if (off + 8 > end) return -1;
      len = v.u32[(pb + off + 4) >> 2] - 4;
      data = off + 8;
      // corrupt (writers reserve multiples of 4 above the small sizes): stop at this page's end
      if (!(len > MAX_SMALL_DATA - 4) || (len & 3) !== 0) return -1;
    } else {
      len = type * 4;
      data = off + 4;
    }
    if (data + len > end) return -1;
    const ts = this.ts + delta;
    this.ts = ts;
    this.headIdx = this.idx;
    if (copy) {
      const rec = this.rec;
      rec.ts = ts;
      rec.data = this.reuse ? this.copyOwn(pb + data, len) : copyOut(v.u8, pb + data, len);
      this.head = rec;
    } else this.head = undefined;
    this.off = data + len;
    this.idx++;
    return 1;
  }

  private copyOwn(pos: number, len: number): Uint8Array {
    const i = len >> 2;
    let words = this.byLength[i];
    if (words === undefined) {
      words = new Uint32Array(i);
      this.byLength[i] = words;
      this.byLengthBytes[i] = new Uint8Array(words.buffer);
    }
    // Records start and end on 4-byte boundaries in the ring (step() stops at any length that is not a multiple of
    // 4, and headers, time records and page headers are whole words): copy words, a quarter of the steps.
    const src = this.v.u32;
    const from = pos >> 2;
    for (let k = 0; k < i; k++) words[k] = src[from + k];
    return this.byLengthBytes[i] as Uint8Array;
  }

  /** The next record without taking it, or undefined when none is available now. The same object every time. */
  peek(): RawRecord | undefined {
    if (this.head) return this.head;
    const v = this.v;
    // Fast path, for the records of a page already entered: no look at the ring's tail, read position and commit
    // word, only at the page's tag and consumed count (the rest of a page the writer reclaimed, a consumer took
    // records from, or that ends here, is the loop's below).
    const seq0 = this.seq;
    if (seq0 === this.endSeq && this.off + 4 <= this.endOff && this.valid()) {
      const slot = seq0 % this.n;
      const st = Atomics.load(v.pageState, slot);
      const consumed = st & 0xffff;
      if (st >>> 16 === (seq0 & 0xffff) && (this.consume ? consumed === this.idx : consumed <= this.idx)) {
        const pb = slot * PAGE_SIZE;
        let r: number;
        do r = this.step(pb, this.endOff, true);
        while (r === 0);
        if (r === 1) {
          if (this.tagOk(seq0)) return this.head;
          this.head = undefined;
        }
      }
    }
    for (let guard = 0; guard < 1 << 20; guard++) {
      if (!this.valid()) return undefined;
      const tail = Atomics.load(v.h, R_TAIL_SEQ);
      if (tail < 0) return undefined;
      const oldest = Math.max(0, tail - this.n + 1);
      // Before the oldest page: a new cursor (seq -1), or one the writer lapped.
      let want = this.seq;
      if (want < oldest) want = want < 0 ? oldest : this.afterLap(oldest, tail);
      want = Math.max(want, Atomics.load(v.h, R_READ_SEQ));
      if (want > tail) want = tail;
      if (want !== this.seq) this.enter(want);
      const seq = this.seq;
      if (!this.consume && (seq > this.limitSeq || (seq === this.limitSeq && this.off >= this.limitOff)))
        return undefined;
      const slot = seq % this.n;
      const st = Atomics.load(v.pageState, slot);
      if (st >>> 16 !== (seq & 0xffff)) {
        // Reclaimed under us (or not yet started): move on.
        if (seq < tail) this.enter(this.afterLap(seq + 1, tail));
        else return undefined;
        continue;
      }
      const pb = slot * PAGE_SIZE;
      // Consumed records are skipped by both modes (what trace_pipe took is gone from `trace` too).
      const consumed = st & 0xffff;
      let end = commitEnd(v.i32, pb);
      if (!this.consume && seq === this.limitSeq) end = Math.min(end, this.limitOff);
      this.endSeq = seq;
      this.endOff = end;
      if (this.idx > consumed && this.consume) this.enter(seq);
      let r = 0;
      while (this.idx < consumed) {
        r = this.step(pb, end, false);
        if (r < 0) break;
      }
      if (this.idx < consumed && r < 0) {
        // Consumed count beyond what we can parse: the page changed. Re-check from the top.
        if (!this.tagOk(seq)) continue;
        this.enter(Math.min(seq + 1, tail));
        continue;
      }
      do r = this.step(pb, end, true);
      while (r === 0);
      if (r === 1) {
        if (this.tagOk(seq)) return this.head;
        this.head = undefined;
        continue;
      }
      // End of this page's committed data.
      if (seq < tail && this.tagOk(seq)) {
        const pageEnd = commitEnd(v.i32, pb);
        if (this.off < pageEnd) continue; // the writer committed more meanwhile
        if (this.consume) Atomics.compareExchange(v.h, R_READ_SEQ, seq, seq + 1);
        this.enter(seq + 1);
        continue;
      }
      if (!this.tagOk(seq)) continue;
      this.lapped = false; // caught up with the writer
      return undefined;
    }
    return undefined;
  }

  /**
   * Where to go on after the writer overwrote the page this cursor was in: `next`, the oldest page left — unless it
   * is a consumer lapped again before it caught up. Then the writer is faster than it and the oldest page
   * is the one the writer takes next: page after page, the reader gets a few records of it while both threads fight
   * over its cache lines (an emitter's cost rose 1.5× with `cat trace_pipe` lapped like this; the kernel's reader
   * takes its page out of the ring instead). It starts LAP_SKIP pages (an eighth of a smaller ring) further on, and
   * reads whole pages there until it is lapped again: the records it passes over are overwritten before it could
   * reach them at that pace, and count as overrun like all the others (docs/TRACE-ENGINE.md).
   */
  private afterLap(next: number, tail: number): number {
    if (!this.consume) return next;
    const again = this.lapped;
    this.lapped = true;
    return again ? Math.min(tail, next + Math.min(LAP_SKIP, this.n >> 3)) : next;
  }

  /**
   * Consume mode: when the cursor stands at the start of a page the writer has left (its records are final) and
   * nobody took any of them, copies the page as it is into `out` at `at` — the ring's pages are the kernel's
   * sub-buffers — and takes all its records with one compare-and-swap: trace_pipe_raw without decoding a record.
   * Bytes after the committed data are zeroed. Returns the records taken; 0 (nothing taken, `out` garbage) when
   * the page is not such a page, or the writer reclaimed it or another consumer took a record meanwhile.
   */
  takeWholePage(out: Uint8Array, at: number): number {
    if (!this.consume || this.seq < 0 || (this.head ? this.headIdx !== 0 : this.idx !== 0)) return 0;
    const v = this.v;
    const seq = this.seq;
    if (seq >= Atomics.load(v.h, R_TAIL_SEQ)) return 0; // the writer may still add to it
    const slot = seq % this.n;
    const tag = (seq & 0xffff) << 16;
    if (Atomics.load(v.pageState, slot) !== tag) return 0;
    const entries = v.pageEntries[slot];
    if (!(entries > 0 && entries < 0x10000)) return 0;
    const pb = slot * PAGE_SIZE;
    const end = commitEnd(v.i32, pb);
    out.set(v.u8.subarray(pb, pb + end), at);
    out.fill(0, at + end, at + PAGE_SIZE);
    out[at + 12] = out[at + 13] = out[at + 14] = out[at + 15] = 0; // the commit word's high half: no flags
    if (Atomics.compareExchange(v.pageState, slot, tag, tag | entries) !== tag) {
      this.enter(seq);
      return 0;
    }
    v.f[F_READ] += entries;
    v.f[F_READ_BYTES] += end - PAGE_HEADER;
    Atomics.compareExchange(v.h, R_READ_SEQ, seq, seq + 1);
    this.enter(seq + 1);
    return entries;
  }

  /**
   * Takes the record `peek` returned. In consume mode this claims it (false when the writer overwrote it or
   * another consumer took it first; peek again).
   */
  take(): boolean {
    const h = this.head;
    if (!h) return false;
    this.head = undefined;
    if (!this.consume) return true;
    const slot = this.seq % this.n;
    const tag = (this.seq & 0xffff) << 16;
    const idx = this.headIdx;
    if (Atomics.compareExchange(this.v.pageState, slot, tag | idx, tag | (idx + 1)) !== (tag | idx)) {
      this.enter(this.seq);
      return false;
    }
    this.v.f[F_READ]++;
    this.v.f[F_READ_BYTES] += h.data.length;
    return true;
  }
}
