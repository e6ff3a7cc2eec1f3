/**
 * The ns/op method of the micro-benchmarks (bench/emit, bench/control): each case is its own function (its own JIT
 * feedback) running a counted loop of `n` iterations; the cases run in interleaved rounds of about the same length,
 * so machine noise hits them all alike, and each case keeps every round's ns/op.
 */

export interface TimedCase {
  readonly name: string;
  /** Runs the case's loop `n` times. */
  readonly run: (n: number) => void;
  /** Iterations for one round, set by `calibrate`. */
  iterations?: number;
  /** ns/op of each round so far. */
  readonly samples: number[];
}

/** Wall ns per iteration of one `c.run(n)`, loop overhead included. */
export function nsPerOp(c: TimedCase, n: number): number {
  const t0 = process.hrtime.bigint();
  c.run(n);
  return Number(process.hrtime.bigint() - t0) / n;
}

/**
 * Sets `c.iterations` so that one run takes about `roundMs`: grows `n` by 4× until a run takes over a quarter of
 * that, then scales (never below 1000 iterations).
 */
export function calibrate(c: TimedCase, roundMs: number): void {
  let n = 1000;
  for (;;) {
    const t0 = process.hrtime.bigint();
    c.run(n);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms > roundMs / 4 || n > 1e9) {
      c.iterations = Math.max(1000, Math.round((n * roundMs) / Math.max(ms, 0.001)));
      return;
    }
    n *= 4;
  }
}

export interface RoundHooks {
  /** Before a case's round, ahead of the GC (e.g. empty the buffer it writes). */
  readonly before?: (c: TimedCase) => void;
  /** After a case's round. */
  readonly after?: (c: TimedCase) => void;
}

/**
 * `rounds` interleaved rounds over the calibrated `cases`, each case's ns/op appended to its samples. A full GC
 * (when run with --expose-gc) before each measurement keeps one case's garbage from being collected on another's time.
 */
export function runRounds(cases: readonly TimedCase[], rounds: number, hooks: RoundHooks = {}): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) {
      hooks.before?.(c);
      gc?.();
      c.samples.push(nsPerOp(c, c.iterations ?? 1000));
      hooks.after?.(c);
    }
  }
}
