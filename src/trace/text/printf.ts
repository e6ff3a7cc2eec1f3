/**
 * The subset of the kernel's vsnprintf that trace events use, with the kernel's (not glibc's) rules: `%#x` of 0
 * prints `0x0`, the `0` flag still pads when a precision is given, `%p` prints 16 zero-padded hex digits (as the
 * kernel's `%px`; ntrace has no kernel pointers to hide, so it never hashes). Written as bytes into a LineWriter:
 * there is one formatter, and text callers decode what it wrote.
 */
import type { LineWriter } from './line-writer.js';

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

const SPACE = 0x20;
const ZERO = 0x30;

function fill(w: LineWriter, b: number, n: number): void {
  for (let i = 0; i < n; i++) w.byte(b);
}

/** ASCII text (digits, a sign, a prefix) byte by byte. */
function ascii(w: LineWriter, s: string): void {
  for (let i = 0; i < s.length; i++) w.byte(s.charCodeAt(i));
}

/**
 * An integer the way the kernel's number() prints it. `value` is first cast like C's va_arg would for the
 * conversion's length modifier and signedness.
 */
export function writeInteger(w: LineWriter, value: bigint, spec: ConversionSpec): void {
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
  if (!zero && !spec.left) fill(w, SPACE, width);
  ascii(w, sign);
  ascii(w, prefix);
  if (!spec.left && zero) fill(w, ZERO, width);
  fill(w, ZERO, precision - digits.length);
  ascii(w, digits);
  if (spec.left) fill(w, SPACE, width);
}

/** Bytes in a UTF-8 sequence that starts with `lead`. */
function sequenceLength(lead: number): number {
  return lead < 0xc0 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
}

/**
 * `%s` precision and width, in bytes (as the kernel counts them), applied to the UTF-8 text written since `start`.
 * A precision that cuts a character leaves U+FFFD in its place (what decoding the cut bytes gives).
 */
export function finishString(w: LineWriter, start: number, spec: ConversionSpec): void {
  if (spec.precision >= 0 && w.pos - start > spec.precision) {
    const cut = start + spec.precision;
    let lead = cut;
    if (cut > start) {
      lead = cut - 1;
      while (lead > start && (w.buf[lead] & 0xc0) === 0x80) lead--;
    }
    if (lead < cut && lead + sequenceLength(w.buf[lead]) > cut) {
      w.pos = lead;
      w.byte(0xef);
      w.byte(0xbf);
      w.byte(0xbd);
    } else {
      w.pos = cut;
    }
  }
  const pad = spec.width - (w.pos - start);
  if (pad <= 0) return;
  if (spec.left) {
    fill(w, SPACE, pad);
    return;
  }
  const end = w.pos;
  w.reserve(pad);
  w.buf.copyWithin(start + pad, start, end);
  w.buf.fill(SPACE, start, start + pad);
  w.pos = end + pad;
}

/** `%c`: the low byte of the argument (as the character of that code, UTF-8), padded like the kernel does. */
export function writeChar(w: LineWriter, value: bigint, spec: ConversionSpec): void {
  const c = Number(BigInt.asUintN(8, value));
  const pad = spec.width - 1;
  if (!spec.left) fill(w, SPACE, pad);
  if (c < 0x80) w.byte(c);
  else {
    w.byte(0xc0 | (c >> 6));
    w.byte(0x80 | (c & 0x3f));
  }
  if (spec.left) fill(w, SPACE, pad);
}

/** UTF-8 byte length: the kernel pads and truncates strings by bytes. */
export function byteLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else {
      n += 2;
      const next = s.charCodeAt(i + 1);
      // A surrogate pair: 4 bytes for its 2 UTF-16 units (a lone surrogate encodes as U+FFFD, 3 bytes).
      if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
    }
  }
  return n;
}
