/**
 * What the engine's readers hand to everything that renders or inspects records (text output, filters, histograms).
 * The contract between the engine core (ring buffers, readers) and its consumers.
 */
import type { EventLayout, FieldSpec } from './layout.js';

/** A defined event, as every thread sees it (built from the shared registry). */
export interface EventDescriptor {
  /** The `id` file's number and the record's common_type. Never reused while records of it may remain. */
  readonly id: number;
  readonly system: string;
  readonly name: string;
  readonly fields: readonly FieldSpec[];
  readonly layout: EventLayout;
  /** The printf-style format given at definition (`%s %u %d %x %ld %lu %lld %llu %llx %c %p`…), if any. */
  readonly print?: string;
}

/** One record read from a ring buffer. */
export interface TraceRecord {
  /** ntrace's "CPU": the index of the emitting thread's ring buffer. */
  readonly cpu: number;
  /** Timestamp in nanoseconds of the instance's trace clock. */
  readonly ts: bigint;
  readonly id: number;
  /** The event, or undefined when its id is unknown to this reader (never expected; printed as the kernel does). */
  readonly event: EventDescriptor | undefined;
  /** The record bytes starting at common_type, laid out as `event.layout`. Valid until the reader moves on. */
  readonly data: Uint8Array;
  /** Name of the thread that emitted it (the `<comm>` of trace lines): process title or worker name. */
  readonly comm: string;
  /** Process id (common_pid). */
  readonly pid: number;
  /**
   * `ts` as a number, where the reader has it so (the rings keep doubles, exact below 2^53 ns): the text path reads
   * this and spares a BigInt per line.
   */
  readonly tsNs?: number;
}
