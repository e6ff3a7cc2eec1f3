/**
 * Buffer-wide operations from the reader side: clearing (O_TRUNC of `trace`) and the per-CPU statistics of
 * `per_cpu/cpuN/stats` and the `trace` header.
 */
import { readClock } from './clocks.js';
import { clockOf, validInstanceIndex } from './instances.js';
import {
  F_BASE_DROPPED,
  F_BASE_OVERRUN,
  F_BASE_READ,
  F_BASE_WRITTEN,
  F_CLEARED,
  F_COMMIT_OVERRUN,
  F_DROPPED,
  F_OVERRUN,
  F_RAW_OVERRUN_SEEN,
  F_READ,
  openRing,
  PAGE_SIZE,
  R_READ_SEQ,
  R_TAIL_SEQ,
  type RingViews,
  writtenOf,
} from './ring.js';
import { RingCursor } from './ring-cursor.js';
import { MAX_CPUS, type SharedState } from './shared-state.js';
import { cpuCount } from './threads.js';

/** Marks everything currently in the ring as gone (not counted as read or overrun) and restarts the counters. */
export function clearRing(v: RingViews): void {
  const n = v.geo.nPages;
  for (let round = 0; round < 100; round++) {
    const tail = Atomics.load(v.h, R_TAIL_SEQ);
    if (tail < 0) break;
    const from = Math.max(Atomics.load(v.h, R_READ_SEQ), tail - n + 1, 0);
    for (let seq = from; seq <= tail; seq++) {
      const slot = seq % n;
      const tag = (seq & 0xffff) << 16;
      for (;;) {
        const st = Atomics.load(v.pageState, slot);
        if (st >>> 16 !== (seq & 0xffff)) break;
        const entries = v.pageEntries[slot];
        const consumed = st & 0xffff;
        if (consumed >= entries) break;
        if (Atomics.compareExchange(v.pageState, slot, st, tag | entries) === st) {
          v.f[F_CLEARED] += entries - consumed;
          break;
        }
      }
    }
    const rs = Atomics.load(v.h, R_READ_SEQ);
    if (rs < tail) Atomics.compareExchange(v.h, R_READ_SEQ, rs, tail);
    if (Atomics.load(v.h, R_TAIL_SEQ) === tail) break;
  }
  v.f[F_BASE_OVERRUN] = v.f[F_OVERRUN];
  v.f[F_RAW_OVERRUN_SEEN] = v.f[F_OVERRUN];
  v.f[F_BASE_DROPPED] = v.f[F_DROPPED];
  v.f[F_BASE_READ] = v.f[F_READ];
  v.f[F_BASE_WRITTEN] = writtenOf(v);
}

/** The rings of an instance: [cpu, views] for every CPU that has one. */
export function ringsOf(s: SharedState, instance: number): Array<[number, RingViews]> {
  const out: Array<[number, RingViews]> = [];
  if (!validInstanceIndex(instance)) return out;
  const n = cpuCount(s);
  for (let cpu = 0; cpu < n; cpu++) {
    const base = Atomics.load(s.ringTable, instance * MAX_CPUS + cpu);
    const v = base ? openRing(s, base) : undefined;
    if (v) out.push([cpu, v]);
  }
  return out;
}

/** What `per_cpu/cpuN/stats` shows. Timestamps in the instance clock's unit (ns or ticks). */
export interface CpuStats {
  /** Records in the buffer not yet consumed. */
  readonly entries: number;
  /** Records lost because the writer overwrote them unread (overwrite mode). */
  readonly overrun: number;
  /** Always 0: a single writer per buffer cannot overrun its own commit. */
  readonly commitOverrun: number;
  /** Bytes of the pages holding unconsumed records. */
  readonly bytes: number;
  /** Timestamp of the oldest unconsumed record, or undefined when empty. */
  readonly oldestTs: bigint | undefined;
  readonly nowTs: bigint;
  /** Records not written because the buffer was full (no-overwrite mode). */
  readonly dropped: number;
  /** Records consumed (trace_pipe). */
  readonly read: number;
  /** entries + overrun: the kernel's "entries-written". */
  readonly written: number;
}

function unreadBytes(v: RingViews): number {
  const n = v.geo.nPages;
  const tail = Atomics.load(v.h, R_TAIL_SEQ);
  if (tail < 0) return 0;
  let bytes = 0;
  for (let seq = Math.max(Atomics.load(v.h, R_READ_SEQ), tail - n + 1, 0); seq <= tail; seq++) {
    const slot = seq % n;
    const st = Atomics.load(v.pageState, slot);
    if ((st & 0xffff) >= v.pageEntries[slot]) continue;
    bytes += Atomics.load(v.i32, (slot * PAGE_SIZE + 8) >> 2);
  }
  return bytes;
}

/** Unconsumed records in a ring, from its counters only (cheap enough for poll). */
export function ringEntries(v: RingViews): number {
  const f = v.f;
  return Math.max(0, writtenOf(v) - f[F_OVERRUN] - f[F_READ] - f[F_CLEARED]);
}

/** Records lost to overwriting since the last clear. */
export function ringOverrun(v: RingViews): number {
  return v.f[F_OVERRUN] - v.f[F_BASE_OVERRUN];
}

export function ringStats(s: SharedState, instance: number, cpu: number, v: RingViews | undefined): CpuStats {
  const nowTs = BigInt(readClock(s, clockOf(s, instance)));
  if (!v)
    return {
      entries: 0,
      overrun: 0,
      commitOverrun: 0,
      bytes: 0,
      oldestTs: undefined,
      nowTs,
      dropped: 0,
      read: 0,
      written: 0,
    };
  const f = v.f;
  const entries = ringEntries(v);
  const overrun = ringOverrun(v);
  const oldest = new RingCursor(v, cpu, false).peek();
  return {
    entries,
    overrun,
    commitOverrun: f[F_COMMIT_OVERRUN],
    bytes: unreadBytes(v),
    oldestTs: oldest ? BigInt(oldest.ts) : undefined,
    nowTs,
    dropped: f[F_DROPPED] - f[F_BASE_DROPPED],
    read: f[F_READ] - f[F_BASE_READ],
    written: entries + overrun,
  };
}

const TWO32 = 4294967296;
const DELTA_UNIT = 1 << 27;

/**
 * trace_pipe_raw: consumes records of one ring into a page in the kernel's sub-buffer format (u64 timestamp, commit,
 * events with recomputed deltas and time extends), as many as fit. Returns undefined when the ring has nothing to
 * consume. A finished, untouched ring page is copied as it is; pages partly consumed (or still being written, or
 * after lost events, which need the missed-events mark) are rebuilt record by record. With `out`, the page is
 * written there at `at` (memory a transport lends for a reply) and the view of it returned, not a fresh page.
 */
export function takeRawPage(cursor: RingCursor, out?: Uint8Array, at = 0): Uint8Array | undefined {
  const f = cursor.v.f;
  // Overruns not yet reported become this page's missed-events mark, as the kernel reports them.
  const missed = Math.max(0, f[F_OVERRUN] - f[F_RAW_OVERRUN_SEEN]);
  const page = out ? out.subarray(at, at + PAGE_SIZE) : new Uint8Array(PAGE_SIZE);
  // A finished page nobody took from is handed out as it is (the common case while a reader keeps up).
  if (missed === 0 && cursor.takeWholePage(page, 0) > 0) return page;
  if (out) page.fill(0);
  const dv = new DataView(page.buffer, page.byteOffset, PAGE_SIZE);
  let off = 16;
  let last = 0;
  let count = 0;
  let seq = -1;
  for (let r = cursor.peek(); r !== undefined; r = cursor.peek()) {
    // Stop at the ring's next page: starting there, the next call can hand it out whole.
    if (count === 0) seq = cursor.pageSeq;
    else if (cursor.pageSeq !== seq) break;
    const len = r.data.length;
    const hdr = len <= 112 ? 4 : 8;
    const delta = count === 0 ? 0 : r.ts - last;
    const ext = delta >= DELTA_UNIT || delta < 0 ? 8 : 0;
    if (off + ext + hdr + len > PAGE_SIZE) break;
    if (!cursor.take()) continue;
    if (count === 0) {
      dv.setUint32(0, r.ts % TWO32, true);
      dv.setUint32(4, Math.floor(r.ts / TWO32), true);
    }
    let d = delta;
    if (ext) {
      // Time extend (or absolute stamp when time went back), as the writer does.
      const value = delta < 0 ? r.ts : delta;
      const hi = Math.floor(value / DELTA_UNIT);
      dv.setUint32(off, (delta < 0 ? 31 : 30) + (value - hi * DELTA_UNIT) * 32, true);
      dv.setUint32(off + 4, hi, true);
      off += 8;
      d = 0;
    }
    if (hdr === 4) dv.setUint32(off, len / 4 + d * 32, true);
    else {
      dv.setUint32(off, d * 32, true);
      dv.setUint32(off + 4, len + 4, true);
    }
    page.set(r.data, off + hdr);
    off += hdr + len;
    last = r.ts;
    count++;
  }
  if (count === 0) return undefined;
  f[F_RAW_OVERRUN_SEEN] += missed;
  // Records lost before this page: the kernel's RB_MISSED_EVENTS flag, and the count after the data when it fits.
  let commit = off - 16;
  if (missed > 0) {
    commit |= 1 << 31;
    if (off + 8 <= PAGE_SIZE) {
      dv.setUint32(off, missed % TWO32, true);
      dv.setUint32(off + 4, Math.floor(missed / TWO32), true);
      commit |= 1 << 30;
    }
  }
  dv.setUint32(8, commit >>> 0, true);
  return page;
}
