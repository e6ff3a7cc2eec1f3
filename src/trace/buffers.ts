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
