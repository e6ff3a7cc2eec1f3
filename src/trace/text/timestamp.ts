/** How the kernel prints trace-clock timestamps. */

/** The kernel's ns2usecs(): nanoseconds to microseconds, rounded to nearest. */
export function ns2usecs(ns: bigint): bigint {
  return (ns + 500n) / 1000n;
}

/** `%5lu.%06lu` of the timestamp in (rounded) microseconds: `  347.876374`. */
export function formatSecondsUsecs(ns: bigint): string {
  if (ns < 0n) ns = 0n;
  if (ns < 9_000_000_000_000_000n) {
    // Exact in doubles up to 2^53 µs; avoids BigInt division on the hot path of every trace line.
    const us = Math.floor((Number(ns) + 500) / 1000);
    const sec = Math.floor(us / 1_000_000);
    const frac = us - sec * 1_000_000;
    return `${String(sec).padStart(5)}.${String(frac).padStart(6, '0')}`;
  }
  const us = ns2usecs(ns);
  return `${(us / 1_000_000n).toString().padStart(5)}.${(us % 1_000_000n).toString().padStart(6, '0')}`;
}

/**
 * Whether a trace clock counts nanoseconds (printed as seconds.microseconds) or is a plain counter (printed raw),
 * per the kernel's trace_clocks[].in_ns. Unknown names count as nanosecond clocks.
 */
export function clockInNs(clock: string): boolean {
  return clock !== 'counter' && clock !== 'uptime' && clock !== 'x86-tsc';
}
