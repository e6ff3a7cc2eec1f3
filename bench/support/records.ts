/**
 * The after-timing checks of the emit benchmarks (bench/emit, bench/control): every emit a case made was recorded
 * (entries + overruns = emits, counting what the rounds cleared) and the engine counted no internal error. A case's
 * emits are counted per `run(n)` call, so the timed loops carry no counter.
 */
import { bufferTotals, clearBuffer, problemCounts } from '../../src/trace/engine.js';
import type { TimedCase } from './timing.js';

/** Records written into one instance since the count began, across the clears the benchmark makes. */
export class RecordCount {
  private cleared = 0;
  private readonly base: number;

  constructor(private readonly instance: number) {
    this.base = bufferTotals(instance).written;
  }

  /** Empties the instance's buffer, keeping its entries and overruns in the count (a clear restarts both). */
  clear(): void {
    this.cleared += bufferTotals(this.instance).written;
    clearBuffer(this.instance);
  }

  /** Entries + overruns since the count began (what was cleared included). */
  written(): number {
    return this.cleared + bufferTotals(this.instance).written - this.base;
  }
}

/** A case whose `run(n)` adds `n` × `perIteration` to `counter.emits` (one addition per call, not per iteration). */
export function counted(c: TimedCase, counter: { emits: number }, perIteration = 1): TimedCase {
  const run = c.run;
  return {
    ...c,
    run(n) {
      counter.emits += n * perIteration;
      run(n);
    },
  };
}

/** The check lines: `check.records_match` (with both numbers) and `check.internal_errors_zero`. */
export function recordChecks(label: string, emits: number, written: number): Record<string, boolean | number> {
  return {
    [`check.${label}.emits`]: emits,
    [`check.${label}.entries_plus_overruns`]: written,
    [`check.${label}.records_match`]: emits === written && emits > 0,
    'check.internal_errors_zero': problemCounts().internalErrors === 0,
  };
}

/** Sets a failing exit code when any `check.*` boolean is false (a check that cannot fail the run is no check). */
export function failOnChecks(result: Record<string, unknown>): void {
  const failed = Object.entries(result).filter(([k, v]) => k.startsWith('check.') && v === false);
  for (const [k] of failed) console.error(`bench check failed: ${k}`);
  if (failed.length > 0) process.exitCode = 1;
}
