/**
 * Small C-library behaviours the kernel's parsers rely on, reimplemented for JS strings: `isspace`, `isalnum`,
 * `strim`, and `kstrtoull`/`kstrtoll` (base 0: `0x` hex, leading `0` octal, else decimal; all-or-nothing).
 */

/** The kernel's isspace(): space, \t \n \v \f \r. */
export function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
}

export function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

export function isAlnum(c: string | undefined): boolean {
  return c !== undefined && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

/** Removes trailing whitespace (what strstrip() does to the buffer in place). */
export function stripTrailing(s: string): string {
  let end = s.length;
  while (end > 0 && isSpace(s[end - 1])) end--;
  return end === s.length ? s : s.slice(0, end);
}

/** strim(): both ends. */
export function strim(s: string): string {
  let start = 0;
  while (start < s.length && isSpace(s[start])) start++;
  return stripTrailing(s.slice(start));
}

export function skipSpaces(s: string, i: number): number {
  while (i < s.length && isSpace(s[i])) i++;
  return i;
}

const U64_MAX = (1n << 64n) - 1n;

/** Like kstrtoull/kstrtoll but telling overflow (the kernel's -ERANGE) from a malformed number (-EINVAL). */
export function kstrtoxxErrno(s: string, signed: boolean): { value: bigint } | { errno: 'EINVAL' | 'ERANGE' } {
  const v = signed ? kstrtoll(s) : kstrtoull(s);
  if (v !== undefined) return { value: v };
  // Malformed or out of range? Re-parse without the range limit.
  const digits = /^-?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\n?$/;
  if (!digits.test(s) || (!signed && s.startsWith('-'))) return { errno: 'EINVAL' };
  return { errno: 'ERANGE' };
}

/**
 * kstrtoull(s, base): the whole string must be a number in the base (a single trailing newline is allowed), else
 * undefined (the kernel's -EINVAL / -ERANGE). `base` 0 picks 16 for `0x`, 8 for a leading `0`, else 10.
 */
export function kstrtoull(s: string, base = 0): bigint | undefined {
  let i = 0;
  if (s[i] === '+') i++;
  if (base === 0) {
    if (s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && isHex(s[i + 2])) {
      base = 16;
      i += 2;
    } else if (s[i] === '0') base = 8;
    else base = 10;
  } else if (base === 16 && s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X')) i += 2;
  const start = i;
  let v = 0n;
  const b = BigInt(base);
  for (; i < s.length; i++) {
    const d = digitValue(s[i]);
    if (d < 0 || d >= base) break;
    v = v * b + BigInt(d);
    if (v > U64_MAX) return undefined;
  }
  if (i === start) return undefined;
  if (s[i] === '\n') i++;
  if (i !== s.length) return undefined;
  return v;
}

/** kstrtoll: optional '-', result must fit in s64. */
export function kstrtoll(s: string, base = 0): bigint | undefined {
  if (s[0] === '-') {
    if (s[1] === '+') return undefined;
    const v = kstrtoull(s.slice(1), base);
    if (v === undefined || v > 1n << 63n) return undefined;
    return -v;
  }
  const v = kstrtoull(s, base);
  if (v === undefined || v >= 1n << 63n) return undefined;
  return v;
}

function isHex(c: string | undefined): boolean {
  return c !== undefined && digitValue(c) >= 0 && digitValue(c) < 16;
}

function digitValue(c: string): number {
  const x = c.charCodeAt(0);
  if (x >= 48 && x <= 57) return x - 48;
  if (x >= 97 && x <= 122) return x - 87;
  if (x >= 65 && x <= 90) return x - 55;
  return -1;
}
