/**
 * The trace clocks an instance can use (`trace_clock`), as far as Node can read them. Timestamps are numbers of
 * nanoseconds (exact below 2^53 ns ≈ 104 days of uptime), or ticks for the clocks the kernel prints raw.
 *
 * - local, global, mono: CLOCK_MONOTONIC via process.hrtime() — the same clock in every thread, so records of
 *   different threads merge correctly (the kernel's `local` is per-CPU and may drift; ours does not).
 * - mono_raw, boot: Node reads neither CLOCK_MONOTONIC_RAW nor CLOCK_BOOTTIME; they use CLOCK_MONOTONIC too
 *   (boot differs only after a suspend, mono_raw only by NTP slewing).
 * - uptime: like the kernel, jiffies in USER_HZ (100 Hz) ticks: CLOCK_MONOTONIC / 10 ms. Printed raw.
 * - counter: a process-wide atomic counter in shared memory, +1 per record. Printed raw.
 */
import type { SharedState } from './shared-state.js';

export const CLOCK_NAMES = ['local', 'global', 'counter', 'uptime', 'mono', 'mono_raw', 'boot'] as const;
export type ClockName = (typeof CLOCK_NAMES)[number];
export const CLOCK_LOCAL = 0;
export const CLOCK_COUNTER = 2;
export const CLOCK_UPTIME = 3;

/** Whether timestamps of the clock are nanoseconds (printed as sec.usec) rather than raw counts. */
export function clockInNs(clock: number): boolean {
  return clock !== CLOCK_COUNTER && clock !== CLOCK_UPTIME;
}

export function clockId(name: string): number {
  return (CLOCK_NAMES as readonly string[]).indexOf(name);
}

/** CLOCK_MONOTONIC in ns as a number. */
export function monoNs(): number {
  const t = process.hrtime();
  return t[0] * 1e9 + t[1];
}

/** Reads clock `clock`. The counter clock needs the shared state. */
export function readClock(s: SharedState, clock: number): number {
  if (clock === CLOCK_COUNTER) return Number(Atomics.add(s.counter, 0, 1n));
  if (clock === CLOCK_UPTIME) return Math.floor(monoNs() / 1e7);
  return monoNs();
}
