/** `per_cpu/cpuN/stats`: counters of one ring buffer, in the kernel's layout (tracing_stats_read()). */
import { formatSecondsUsecs } from './timestamp.js';

/**
 * What the engine reports for one ring buffer ("CPU") of one instance. Counts are events unless said otherwise.
 * Field names follow the engine's CpuStats (src/trace/buffers.ts), which is assignable to this type.
 */
export interface RingBufferStats {
  /** Events in the buffer that a reader has not consumed yet. */
  readonly entries: number;
  /** Events overwritten by the writer before anyone read them (overwrite mode). */
  readonly overrun: number;
  /** Events lost because the writer wrapped onto a sub-buffer it was still committing to (kernel: nested writers). */
  readonly commitOverrun: number;
  /** Bytes of event data in the buffer not consumed yet. */
  readonly bytes: number;
  /** Timestamp of the oldest event in the buffer, in the trace clock's unit (ns for time clocks); undefined: none. */
  readonly oldestTs: bigint | undefined;
  /** The trace clock's current value, same unit. */
  readonly nowTs: bigint;
  /** Events refused because the buffer was full and overwrite is off (kernel: "dropped events"). */
  readonly dropped: number;
  /** Events consumed by readers (trace_pipe) since the last reset. */
  readonly read: number;
}

/** The stats file text. `clockInNs`: false for counter-like clocks, whose timestamps print as raw numbers. */
export function statsText(s: RingBufferStats, clockInNs = true): string {
  const ts = (t: bigint | undefined) => {
    const v = t === undefined || t < 0n ? 0n : t;
    return clockInNs ? formatSecondsUsecs(v) : v.toString();
  };
  return (
    `entries: ${s.entries}\n` +
    `overrun: ${s.overrun}\n` +
    `commit overrun: ${s.commitOverrun}\n` +
    `bytes: ${s.bytes}\n` +
    `oldest event ts: ${ts(s.oldestTs)}\n` +
    `now ts: ${ts(s.nowTs)}\n` +
    `dropped events: ${s.dropped}\n` +
    `read events: ${s.read}\n`
  );
}
