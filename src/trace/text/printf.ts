/**
 * The subset of the kernel's vsnprintf that trace events use, with the kernel's (not glibc's) rules: `%#x` of 0
 * prints `0x0`, the `0` flag still pads when a precision is given, `%p` prints 16 zero-padded hex digits (as the
 * kernel's `%px`; ntrace has no kernel pointers to hide, so it never hashes).
 */

/** One parsed `%` conversion. */
export interface ConversionSpec {
  readonly left: boolean;
  readonly plus: boolean;
  readonly space: boolean;
  readonly alt: boolean;
  readonly zero: boolean;
  /** -1 when absent. */
  readonly width: number;
  /** -1 when absent. */
  readonly precision: number;
  /** '', 'hh', 'h', 'l', 'll', 'z', 't'. */
  readonly length: string;
  /** 'd' 'i' 'u' 'x' 'X' 'o' 'c' 's' 'p'. */
  readonly conv: string;
  /** The conversion as written, e.g. `%-08llx`. */
  readonly text: string;
}

/** Bits the argument has after C's va_arg for this length modifier. */
export function argumentBits(spec: ConversionSpec): number {
  if (spec.conv === 'p') return 64;
  switch (spec.length) {
    case 'hh':
      return 8;
    case 'h':
      return 16;
    case 'l':
    case 'll':
    case 'z':
    case 't':
      return 64;
    default:
      return 32;
  }
}

export function isSignedConversion(spec: ConversionSpec): boolean {
  return spec.conv === 'd' || spec.conv === 'i';
}

function repeat(c: string, n: number): string {
  return n > 0 ? c.repeat(n) : '';
}

/**
 * Formats an integer the way the kernel's number() does. `value` is first cast like C's va_arg would for the
 * conversion's length modifier and signedness.
 */
export function formatInteger(value: bigint, spec: ConversionSpec): string {
  const bits = argumentBits(spec);
  const signed = isSignedConversion(spec);
  let num = signed ? BigInt.asIntN(bits, value) : BigInt.asUintN(bits, value);
  let base = 10;
  let upper = false;
  if (spec.conv === 'x' || spec.conv === 'p') base = 16;
  else if (spec.conv === 'X') {
    base = 16;
    upper = true;
  } else if (spec.conv === 'o') base = 8;

  let width = spec.width;
  let precision = spec.precision;
  let zero = spec.zero && !spec.left;
  if (spec.conv === 'p' && width === -1) {
    width = 16;
    zero = true;
  }
  let sign = '';
  if (signed) {
    if (num < 0n) {
      sign = '-';
      num = -num;
      width--;
    } else if (spec.plus) {
      sign = '+';
      width--;
    } else if (spec.space) {
      sign = ' ';
      width--;
    }
  }
  const isZero = num === 0n;
  const prefixed = spec.alt && base !== 10 && spec.conv !== 'p';
  let prefix = '';
  if (prefixed) {
    if (base === 16) {
      width -= 2;
      prefix = upper ? '0X' : '0x';
    } else if (!isZero) {
      width--;
      prefix = '0';
    }
  }
  let digits = num.toString(base);
  if (upper) digits = digits.toUpperCase();
  if (digits.length > precision) precision = digits.length;
  width -= precision;
  let out = '';
  if (!zero && !spec.left) out += repeat(' ', width);
  out += sign + prefix;
  if (!spec.left) out += repeat(zero ? '0' : ' ', zero ? width : 0);
  out += repeat('0', precision - digits.length) + digits;
  if (spec.left) out += repeat(' ', width);
  return out;
}

/** UTF-8 byte length: the kernel pads and truncates strings by bytes. */
export function byteLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff)
      n += 1; // surrogate pair: 4 bytes for 2 UTF-16 units
    else n += 2;
  }
  return n;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** Applies `%s` precision (bytes) and width (bytes) to an already decoded string. */
export function formatString(s: string, spec: ConversionSpec): string {
  if (spec.precision >= 0 && byteLength(s) > spec.precision) {
    s = decoder.decode(encoder.encode(s).subarray(0, spec.precision));
  }
  const pad = spec.width - byteLength(s);
  if (pad <= 0) return s;
  return spec.left ? s + repeat(' ', pad) : repeat(' ', pad) + s;
}

/** `%c`: the low byte of the argument, padded like the kernel does. */
export function formatChar(value: bigint, spec: ConversionSpec): string {
  const ch = String.fromCharCode(Number(BigInt.asUintN(8, value)));
  const pad = spec.width - 1;
  if (pad <= 0) return ch;
  return spec.left ? ch + repeat(' ', pad) : repeat(' ', pad) + ch;
}
