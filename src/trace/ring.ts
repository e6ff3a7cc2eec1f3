/**
 * One ring buffer ("CPU" buffer of one thread in one instance) in the arena, and its single writer.
 *
 * Pages follow the kernel ring buffer (events/header_page, events/header_event): each page (sub-buffer) is a u64
 * timestamp, a commit word (bytes of committed data), then 4080 bytes of events. Each event starts with a u32
 * header: type_len (5 bits) | time_delta (27 bits) << 5. type_len 1..28 = data of type_len*4 bytes follows;
 * 0 = a u32 length word (data bytes + 4) follows, then the data; 29 = padding; 30 = time extend (delta bits 27+ in
 * the next word); 31 = absolute timestamp (same encoding, the full timestamp).
 *
 * Beside the pages, shared words let readers in other threads follow the writer without locks:
 * - TAIL_SEQ: sequence number of the page being written (page seq S lives in slot S % N).
 * - pageState[slot] = (S & 0xffff) << 16 | consumed: which page seq the slot holds and how many of its records a
 *   consuming reader took. The writer claims a slot with one atomic exchange before reusing it, so a reader that
 *   validates the tag after copying a record knows the copy is good, and the writer knows exactly how many records
 *   it overwrote unread (the overrun).
 * - pageEntries[slot]: records committed to the page; the page's commit word: bytes committed (its store is the
 *   publication point of a record; see PLAIN_COMMIT).
 */
import { H_RING_UID, type SharedState } from './shared-state.js';

export const PAGE_SIZE = 4096;
export const PAGE_HEADER = 16;
export const PAGE_DATA = PAGE_SIZE - PAGE_HEADER;
/** Largest payload a record can have: one page minus the 8-byte event header and a possible time extend. */
export const MAX_PAYLOAD = PAGE_DATA - 16;
export const MIN_PAGES = 2;
/** Page tags are 16 bits: keep the ring well below 65536 pages. */
export const MAX_PAGES = 32767;

export const TYPE_PADDING = 29;
export const TYPE_TIME_EXTEND = 30;
export const TYPE_TIME_STAMP = 31;
export const MAX_SMALL_DATA = 28 * 4;
const DELTA_LIMIT = 1 << 27;
/**
 * How a commit is published. On x86 a plain store is enough: the CPU makes stores visible in program order
 * (TSO) and V8 emits typed-array stores in program order, so a reader that sees the new commit word sees the
 * record; Atomics.store would add a full fence (~8 ns, an eighth of an emit). Other CPUs reorder stores: there
 * the release comes from Atomics.store.
 */
const PLAIN_COMMIT = process.arch === 'x64' || process.arch === 'ia32';
const TWO32 = 4294967296;

// Ring header (Int32 words from the ring's base).
export const R_MAGIC = 0;
export const R_NPAGES = 1;
export const R_TAIL_SEQ = 2;
export const R_READ_SEQ = 3;
export const R_CPU = 4;
export const R_INSTANCE = 5;
export const R_UID = 6;
export const RING_MAGIC = 0x72696e67; // "ring"
// Counters (Float64 from base + 256): written by the writer (or the reader, for READ/CLEARED), plain stores.
// F_WRITTEN counts the records of finished pages only: use writtenOf().
export const F_WRITTEN = 0;
export const F_OVERRUN = 1;
export const F_DROPPED = 2;
export const F_READ = 3;
export const F_CLEARED = 4;
export const F_BASE_WRITTEN = 5;
export const F_BASE_OVERRUN = 6;
export const F_BASE_DROPPED = 7;
export const F_BASE_READ = 8;
export const F_COMMIT_OVERRUN = 9;
export const F_READ_BYTES = 10;
/** Overrun already reported as missed events by trace_pipe_raw pages. */
export const F_RAW_OVERRUN_SEEN = 11;
const COUNTERS_BYTE = 256;
const STATE_BYTE = 512;

export interface RingGeometry {
  readonly nPages: number;
  readonly stateByte: number;
  readonly entriesByte: number;
  readonly pagesByte: number;
  readonly totalBytes: number;
}

export function ringGeometry(nPages: number): RingGeometry {
  const stateByte = STATE_BYTE;
  const entriesByte = stateByte + nPages * 4;
  const pagesByte = Math.ceil((entriesByte + nPages * 4) / PAGE_SIZE) * PAGE_SIZE;
  return { nPages, stateByte, entriesByte, pagesByte, totalBytes: pagesByte + nPages * PAGE_SIZE };
}

/** Pages for a per-CPU size in KiB (the buffer_size_kb value). */
export function pagesForKb(kb: number): number {
  const n = Math.ceil((kb * 1024) / PAGE_SIZE);
  return Math.min(MAX_PAGES, Math.max(MIN_PAGES, n));
}

/** Typed views over one ring; shared by the writer and the readers. */
export class RingViews {
  readonly base: number;
  readonly geo: RingGeometry;
  readonly h: Int32Array;
  readonly f: Float64Array;
  readonly pageState: Int32Array;
  readonly pageEntries: Int32Array;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;

  constructor(arena: SharedArrayBuffer, base: number, nPages: number) {
    this.base = base;
    const g = ringGeometry(nPages);
    this.geo = g;
    this.h = new Int32Array(arena, base, 64);
    this.f = new Float64Array(arena, base + COUNTERS_BYTE, 32);
    this.pageState = new Int32Array(arena, base + g.stateByte, nPages);
    this.pageEntries = new Int32Array(arena, base + g.entriesByte, nPages);
    const pb = base + g.pagesByte;
    const len = nPages * PAGE_SIZE;
    this.u8 = new Uint8Array(arena, pb, len);
    this.u16 = new Uint16Array(arena, pb, len >> 1);
    this.u32 = new Uint32Array(arena, pb, len >> 2);
    this.i32 = new Int32Array(arena, pb, len >> 2);
  }
}

/** Initializes ring memory at arena offset `base` (zeroing what readers look at). */
export function initRing(s: SharedState, base: number, nPages: number, instance: number, cpu: number): void {
  const g = ringGeometry(nPages);
  new Uint8Array(s.handles.arena, base, g.pagesByte).fill(0);
  const h = new Int32Array(s.handles.arena, base, 64);
  h[R_NPAGES] = nPages;
  h[R_TAIL_SEQ] = -1;
  h[R_READ_SEQ] = 0;
  h[R_CPU] = cpu;
  h[R_INSTANCE] = instance;
  h[R_UID] = Atomics.add(s.header, H_RING_UID, 1) + 1;
  Atomics.store(h, R_MAGIC, RING_MAGIC);
}

/** Reads the geometry of the ring at `base`, or undefined when the memory is not (or no longer) a ring. */
export function openRing(s: SharedState, base: number): RingViews | undefined {
  const arena = s.handles.arena;
  if (base <= 0 || base + 512 > arena.byteLength) return undefined;
  const h = new Int32Array(arena, base, 8);
  const n = h[R_NPAGES];
  if (Atomics.load(h, R_MAGIC) !== RING_MAGIC || n < MIN_PAGES || n > MAX_PAGES) return undefined;
  if (base + ringGeometry(n).totalBytes > arena.byteLength) return undefined;
  return new RingViews(arena, base, n);
}

/**
 * The single writer of one ring, living in the emitting thread. `reserve` places the event header and returns
 * the byte index where the payload goes; the encoder fills it; `commit` publishes it. `abort` undoes a reserve
 * (possible because nobody else writes here).
 */
export class RingWriter {
  readonly v: RingViews;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  /** The pages as a Buffer, for Node's native string copies. */
  readonly buf: Buffer;
  readonly uid: number;
  readonly nPages: number;
  /** Overwrite mode: read from the instance's options word when a page fills up (see bindOptions). */
  overwrite = true;
  private optWords: Int32Array | undefined;
  private optIndex = 0;
  private optBit = 0;
  private readonly i32: Int32Array;
  private readonly entriesOf: Int32Array;
  private seq: number;
  private slot = 0;
  private pageByte = 0;
  /** Int32 index of the current page's commit word. */
  private commitIdx = 2;
  /** Write offset within the current page (from the page start). */
  private off = PAGE_SIZE;
  private entries = 0;
  private lastTs = 0;
  /** End offset of the reserved record, 0 when nothing is reserved. */
  private pendingEnd = 0;
  private recStart = 0;
  private prevTs = 0;

  constructor(v: RingViews) {
    this.v = v;
    this.u8 = v.u8;
    this.u16 = v.u16;
    this.u32 = v.u32;
    this.buf = Buffer.from(v.u8.buffer, v.u8.byteOffset, v.u8.length);
    this.i32 = v.i32;
    this.entriesOf = v.pageEntries;
    this.uid = v.h[R_UID];
    this.nPages = v.geo.nPages;
    // A ring adopted again (its thread re-created its emitter): continue on a fresh page after its last one.
    this.seq = Atomics.load(v.h, R_TAIL_SEQ);
    if (this.seq >= 0) {
      this.slot = this.seq % this.nPages;
      this.entries = v.pageEntries[this.slot];
    }
  }

  /**
   * Reserves room for a payload of `len` bytes (a multiple of 4) at time `ts` (ns); returns the payload's byte
   * index in `u8`, or -1 when the record is dropped (no-overwrite mode and the buffer is full).
   */
  reserve(len: number, ts: number): number {
    const hdr = len <= MAX_SMALL_DATA ? 4 : 8;
    const need = hdr + len;
    let delta = ts - this.lastTs;
    let off = this.off;
    const far = delta >= DELTA_LIMIT || delta < 0;
    this.prevTs = this.lastTs;
    if (off + need + (far ? 8 : 0) > PAGE_SIZE) {
      if (len > MAX_PAYLOAD || !this.nextPage(ts)) return -1;
      off = PAGE_HEADER;
      delta = 0;
      this.prevTs = ts;
    }
    this.recStart = off;
    if (far && delta !== 0) {
      // Time extend (a delta too big for 27 bits) or absolute stamp (the clock went back: a clock change).
      const w = (this.pageByte + off) >> 2;
      const value = delta < 0 ? ts : delta;
      const hi = Math.floor(value / DELTA_LIMIT);
      this.u32[w] = (delta < 0 ? TYPE_TIME_STAMP : TYPE_TIME_EXTEND) + (value - hi * DELTA_LIMIT) * 32;
      this.u32[w + 1] = hi;
      off += 8;
      delta = 0;
    }
    const at = this.pageByte + off;
    if (hdr === 4) this.u32[at >> 2] = (len >> 2) + delta * 32;
    else {
      this.u32[at >> 2] = delta * 32;
      this.u32[(at >> 2) + 1] = len + 4;
    }
    this.lastTs = ts;
    this.pendingEnd = off + need;
    return at + hdr;
  }

  /** Publishes the reserved record: the commit word store is what makes it visible to readers. */
  commit(): void {
    const end = this.pendingEnd;
    if (end === 0) return;
    this.pendingEnd = 0;
    this.off = end;
    this.entriesOf[this.slot] = ++this.entries;
    if (PLAIN_COMMIT) this.i32[this.commitIdx] = end - PAGE_HEADER;
    else Atomics.store(this.i32, this.commitIdx, end - PAGE_HEADER);
  }

  /** Payload bytes of the reserved record whose payload starts at `at` (0 when nothing is reserved). */
  pendingLength(at: number): number {
    return this.pendingEnd === 0 ? 0 : this.pageByte + this.pendingEnd - at;
  }

  /** Forgets the reserved record (nothing was published). */
  abort(): void {
    if (this.pendingEnd === 0) return;
    this.pendingEnd = 0;
    this.off = this.recStart;
    this.lastTs = this.prevTs;
  }

  /** Makes the writer follow an options word (the instance's) for the overwrite mode. */
  bindOptions(words: Int32Array, index: number, overwriteBit: number): void {
    this.optWords = words;
    this.optIndex = index;
    this.optBit = overwriteBit;
    this.overwrite = (words[index] & overwriteBit) !== 0;
  }

  /** Counts a record that could not be written at all. */
  drop(): void {
    this.v.f[F_DROPPED]++;
  }

  private nextPage(ts: number): boolean {
    const v = this.v;
    const n = this.nPages;
    const seq = this.seq + 1;
    const slot = seq % n;
    const tag = (seq & 0xffff) << 16;
    if (this.optWords) this.overwrite = (this.optWords[this.optIndex] & this.optBit) !== 0;
    if (seq >= n) {
      const oldTag = (seq - n) & 0xffff;
      const old = Atomics.load(v.pageState, slot);
      const oldEntries = v.pageEntries[slot];
      if (!this.overwrite && old >>> 16 === oldTag && (old & 0xffff) < oldEntries) {
        this.drop();
        return false;
      }
      const prev = Atomics.exchange(v.pageState, slot, tag);
      if (prev >>> 16 === oldTag) {
        const unread = oldEntries - (prev & 0xffff);
        if (unread > 0) v.f[F_OVERRUN] += unread;
      }
    } else Atomics.store(v.pageState, slot, tag);
    // Records of the page we leave count as written from now on (cheaper than a counter per record).
    if (this.seq >= 0) v.f[F_WRITTEN] += this.entries;
    // The slot is ours now: readers that still hold the old tag will notice on validation.
    const pb = slot * PAGE_SIZE;
    v.pageEntries[slot] = 0;
    Atomics.store(v.i32, (pb + 8) >> 2, 0);
    v.u32[(pb + 12) >> 2] = 0;
    const hi = Math.floor(ts / TWO32);
    v.u32[pb >> 2] = ts - hi * TWO32;
    v.u32[(pb >> 2) + 1] = hi;
    this.seq = seq;
    this.slot = slot;
    this.pageByte = pb;
    this.commitIdx = (pb + 8) >> 2;
    this.off = PAGE_HEADER;
    this.entries = 0;
    Atomics.store(v.h, R_TAIL_SEQ, seq);
    return true;
  }
}

/** Records written to a ring so far (finished pages are summed; the current page is counted live). */
export function writtenOf(v: RingViews): number {
  const tail = Atomics.load(v.h, R_TAIL_SEQ);
  return v.f[F_WRITTEN] + (tail < 0 ? 0 : v.pageEntries[tail % v.geo.nPages]);
}
