/** Summaries of repeated measurements. */

/** The middle sample (mean of the two middle ones for an even count); `xs` is left unsorted. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The fastest sample: on a shared machine noise only ever adds time, so the minimum is the cost itself. */
export function fastest(xs: readonly number[]): number {
  return Math.min(...xs);
}

/** `x` rounded to `digits` decimals, as a number (for JSON). */
export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
