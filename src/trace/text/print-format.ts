/**
 * An event's print string: the printf-style format given at definition (or the default `name=value` one), whose
 * conversions take the event's fields in declaration order. Parsed and checked once; compiled into a list of steps
 * that write the text after `<event>: ` on a trace line as bytes, straight into the reader's buffer.
 */
import type { EventLayout, FieldLayout } from '../layout.js';
import { parseFieldType } from '../layout.js';
import type { EventDescriptor } from '../record.js';
import { LineWriter } from './line-writer.js';
import { type ConversionSpec, finishString, writeChar, writeInteger } from './printf.js';
import { HOST_LITTLE_ENDIAN, readInteger, readIntField, readSmallInt } from './record-fields.js';

/** Widths and precisions above this are refused: a line is one kernel page at most anyway. */
export const MAX_PRINT_WIDTH = 4096;
/** Longest print string accepted. */
export const MAX_PRINT_LENGTH = 4096;

export type PrintPart = string | ConversionSpec;

/** Parses a print string into literal text and conversions; throws TypeError on anything the kernel would not print. */
export function parsePrintFormat(print: string): PrintPart[] {
  if (typeof print !== 'string') throw new TypeError('print format must be a string');
  if (print.length > MAX_PRINT_LENGTH) throw new TypeError(`print format longer than ${MAX_PRINT_LENGTH} characters`);
  const parts: PrintPart[] = [];
  let lit = '';
  let i = 0;
  while (i < print.length) {
    const c = print[i];
    if (c !== '%') {
      const code = c.charCodeAt(0);
      if ((code < 0x20 || code > 0x7e) && c !== '\n' && c !== '\t') {
        // libtraceevent (trace-cmd, perf) fails on such bytes in a format file, or prints escapes wrongly.
        throw new TypeError(
          `print format: character ${JSON.stringify(c)} at offset ${i}: only printable ASCII, \\n and \\t are allowed (put other text in a string field)`,
        );
      }
      lit += c;
      i++;
      continue;
    }
    const start = i;
    i++;
    if (print[i] === '%') {
      lit += '%';
      i++;
      continue;
    }
    let left = false;
    let plus = false;
    let alt = false;
    let zero = false;
    for (;;) {
      const f = print[i];
      if (f === '-') left = true;
      else if (f === '+') plus = true;
      else if (f === ' ') {
        // The kernel knows it, but libtraceevent (trace-cmd, perf) cannot print it: keep formats both can read.
        throw new TypeError(`print format: the ' ' flag is not supported at offset ${start}`);
      } else if (f === '#') alt = true;
      else if (f === '0') zero = true;
      else break;
      i++;
    }
    let width = -1;
    const w = /^[0-9]+/.exec(print.slice(i, i + 12));
    if (w) {
      width = Number(w[0]);
      i += w[0].length;
    }
    let precision = -1;
    if (print[i] === '.') {
      i++;
      const p = /^[0-9]*/.exec(print.slice(i, i + 12))![0];
      precision = p === '' ? 0 : Number(p);
      i += p.length;
    }
    const where = `at offset ${start} (${JSON.stringify(print.slice(start, i + 1))})`;
    if (print[i] === '*') throw new TypeError(`print format: '*' width/precision not supported ${where}`);
    if (width > MAX_PRINT_WIDTH || precision > MAX_PRINT_WIDTH) {
      throw new TypeError(`print format: width/precision above ${MAX_PRINT_WIDTH} ${where}`);
    }
    let length = '';
    const lm = /^(hh|h|ll|l|z|t)/.exec(print.slice(i, i + 2));
    if (lm) {
      length = lm[1];
      i += length.length;
    }
    const conv = print[i];
    if (conv === undefined) throw new TypeError(`print format: incomplete conversion ${where}`);
    if (!'diuxXocsp'.includes(conv)) {
      throw new TypeError(`print format: unsupported conversion ${JSON.stringify(`%${conv}`)} ${where}`);
    }
    i++;
    if ((conv === 's' || conv === 'c' || conv === 'p') && length !== '') {
      throw new TypeError(`print format: length modifier not allowed on %${conv} ${where}`);
    }
    if (conv === 'p' && /[A-Za-z0-9]/.test(print[i] ?? '')) {
      throw new TypeError(`print format: kernel pointer extensions (%p<x>) not supported ${where}`);
    }
    if (lit) parts.push(lit);
    lit = '';
    parts.push(
      Object.freeze({
        left,
        plus,
        space: false,
        alt,
        zero,
        width,
        precision,
        length,
        conv,
        text: print.slice(start, i),
      }),
    );
  }
  if (lit) parts.push(lit);
  return parts;
}

function isConversion(p: PrintPart): p is ConversionSpec {
  return typeof p !== 'string';
}

/** A field as the validators need it: FieldSpec or FieldLayout. */
export type FieldLike = { readonly name: string; readonly type: string };

function fieldKind(f: FieldLike): string {
  const t = parseFieldType(f.type);
  if (!t) throw new TypeError(`field ${f.name}: unknown type ${JSON.stringify(f.type)}`);
  return t.kind;
}

/** Checks that a conversion can print a field of this kind; returns an error message or undefined. */
function mismatch(spec: ConversionSpec, f: FieldLike, kind: string): string | undefined {
  const numeric = kind === 'int' || kind === 'bool';
  if (spec.conv === 's') {
    if (numeric) return `%s cannot print field ${f.name} of type ${f.type}`;
  } else if (!numeric) {
    return `${spec.text} cannot print field ${f.name} of type ${f.type} (use %s)`;
  }
  return undefined;
}

/**
 * Validates a print string against an event's fields: the conversions must be exactly one per field, in order, each
 * fit for its field's type. Throws TypeError with a message naming the problem. Call it in defineEvent.
 */
export function validatePrintFormat(print: string, fields: readonly FieldLike[]): void {
  const convs = parsePrintFormat(print).filter(isConversion);
  if (convs.length !== fields.length) {
    throw new TypeError(
      `print format has ${convs.length} conversion${convs.length === 1 ? '' : 's'} for ${fields.length} field${fields.length === 1 ? '' : 's'}: each field needs exactly one, in declaration order`,
    );
  }
  for (let i = 0; i < fields.length; i++) {
    const err = mismatch(convs[i], fields[i], fieldKind(fields[i]));
    if (err) throw new TypeError(`print format: ${err}`);
  }
}

function defaultConversion(f: FieldLike): string {
  const t = parseFieldType(f.type);
  if (!t) throw new TypeError(`field ${f.name}: unknown type ${JSON.stringify(f.type)}`);
  if (t.kind === 'string' || t.kind === 'chars' || t.kind === 'array') return '%s';
  if (t.kind === 'bool') return '%d';
  const ll = t.elemSize === 8 ? 'll' : '';
  return `%${ll}${t.signed ? 'd' : 'u'}`;
}

/** The print string used when an event gives none: `a=%u b=%s ...` (one `name=value` pair per field). */
export function defaultPrintFormat(fields: readonly FieldLike[]): string {
  return fields.map((f) => `${f.name}=${defaultConversion(f)}`).join(' ');
}

/** The argument list of the `print fmt:` line: `REC->x`, `__get_str(x)`, `__print_array(REC->x, N, S)`. */
export function printArgument(f: FieldLayout): string {
  switch (f.kind) {
    case 'string':
      return `__get_str(${f.name})`;
    case 'array':
      return `__print_array(REC->${f.name}, ${f.count}, ${f.elemSize})`;
    default:
      return `REC->${f.name}`;
  }
}

/** Escapes a print string as the C string literal the format file shows. */
export function cStringLiteral(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\${c.toString(8).padStart(3, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Conversion letters of a print string, scanned leniently (engine-defined events may use `%ps`). */
function conversionLetters(print: string): string[] {
  const out: string[] = [];
  for (const m of print.matchAll(/%[-+ #0]*[0-9]*(?:\.[0-9]*)?(?:hh|h|ll|l|z|t)?([A-Za-z%])/g)) {
    if (m[1] !== '%') out.push(m[1]);
  }
  return out;
}

/** The full `print fmt: ...` line (without newline) for an event. */
export function printFmtLine(event: Pick<EventDescriptor, 'print' | 'fields' | 'layout'>): string {
  const print = event.print ?? defaultPrintFormat(event.fields);
  const convs = conversionLetters(print);
  // Pointers are cast as the kernel's own formats do, so readers print them as addresses (or symbols for %ps).
  const args = event.layout.fields.map((f, i) =>
    convs[i] === 'p' && f.kind === 'int' ? `(void *)REC->${f.name}` : printArgument(f),
  );
  return `print fmt: ${cStringLiteral(print)}${args.length ? `, ${args.join(', ')}` : ''}`;
}

/** Writes the text of one record's print string into `w`. */
export type PrintWriter = (w: LineWriter, data: Uint8Array) => void;
/** The same text as a string (the writer's bytes decoded), for callers that want one. */
export type RecordRenderer = (data: Uint8Array) => string;

const encoder = new TextEncoder();

/** Literal text, copied as bytes. */
function literalStep(text: string): PrintWriter {
  const bytes = encoder.encode(text);
  return (w) => w.bytes(bytes);
}

/** A `string` (`__data_loc char[]`) or `char[N]` field's bytes up to the first NUL, as `%s` prints them. */
function stringStep(f: FieldLayout): PrintWriter {
  if (f.kind === 'string') {
    const at = f.offset;
    return (w, d) => {
      const loc = readSmallInt(d, at, 4, false);
      const off = loc & 0xffff;
      if (off < d.length) w.utf8(d, off, Math.min(off + (loc >>> 16), d.length));
    };
  }
  const end = f.offset + f.size;
  return (w, d) => {
    w.utf8(d, Math.min(f.offset, d.length), Math.min(end, d.length));
  };
}

const HEX = '0123456789abcdef';

/** The kernel's `__print_array()` text: `{0x1,0x2}`. */
function arrayStep(f: FieldLayout): PrintWriter {
  return (w, d) => {
    w.byte(0x7b);
    for (let i = 0; i < f.count; i++) {
      if (i > 0) w.byte(0x2c);
      w.byte(0x30);
      w.byte(0x78);
      const at = f.offset + i * f.elemSize;
      if (f.elemSize === 8) {
        const s = readInteger(d, at, 8, false).toString(16);
        for (let k = 0; k < s.length; k++) w.byte(s.charCodeAt(k));
        continue;
      }
      const v = readSmallInt(d, at, f.elemSize, false);
      let digits = 1;
      while (digits < 8 && v >>> (digits * 4) !== 0) digits++;
      for (let k = digits - 1; k >= 0; k--) w.byte(HEX.charCodeAt((v >>> (k * 4)) & 0xf));
    }
    w.byte(0x7d);
  };
}

const TWO_32 = 2 ** 32;
/** High words of 64-bit values that are safe integers as doubles (|v| < 2^53). */
const SAFE_HIGH = 0x200000;

/** A plain `%llu` / `%lld` of a 64-bit field: doubles while the value is a safe integer, BigInt beyond. */
function int64Step(f: FieldLayout): PrintWriter {
  const at = f.offset;
  const lo = HOST_LITTLE_ENDIAN ? at : at + 4;
  const hi = HOST_LITTLE_ENDIAN ? at + 4 : at;
  return (w, d) => {
    if (at + 8 > d.length) {
      w.byte(0x30);
      return;
    }
    const low = readSmallInt(d, lo, 4, false);
    const high = readSmallInt(d, hi, 4, f.signed);
    if (high < SAFE_HIGH && high >= -SAFE_HIGH) w.int(high * TWO_32 + low);
    else {
      const s = readIntField(d, f).toString();
      for (let k = 0; k < s.length; k++) w.byte(s.charCodeAt(k));
    }
  };
}

function conversionStep(spec: ConversionSpec, f: FieldLayout): PrintWriter {
  if (spec.conv === 's') {
    const content = f.kind === 'array' ? arrayStep(f) : stringStep(f);
    if (spec.width < 0 && spec.precision < 0) return content;
    return (w, d) => {
      const start = w.pos;
      content(w, d);
      finishString(w, start, spec);
    };
  }
  if (spec.conv === 'c') return (w, d) => writeChar(w, readIntField(d, f), spec);
  // The most common case: a plain %d/%u/%lld/%llu whose argument type holds the field unchanged.
  const plain =
    !spec.left && !spec.plus && !spec.space && !spec.alt && !spec.zero && spec.width < 0 && spec.precision < 0;
  if (plain && (spec.conv === 'd' || spec.conv === 'i' || spec.conv === 'u')) {
    const bits = spec.length === '' ? 32 : spec.length === 'h' ? 16 : spec.length === 'hh' ? 8 : 64;
    const signedConv = spec.conv !== 'u';
    const size = f.elemSize * 8;
    // The C cast is a no-op when every value of the field fits the conversion's argument type.
    const fits = signedConv ? (f.signed ? size <= bits : size < bits) : !f.signed && size <= bits;
    if (fits) {
      if (f.elemSize === 8) return int64Step(f);
      const { offset, elemSize, signed } = f;
      return (w, d) => w.int(readSmallInt(d, offset, elemSize, signed));
    }
  }
  return (w, d) => writeInteger(w, readIntField(d, f), spec);
}

/** Compiles an event's print string (or its default) into the writer of the text after `<event>: `. */
export function compilePrintFormat(print: string | undefined, layout: EventLayout): PrintWriter {
  const fields = layout.fields;
  const parts = parsePrintFormat(print ?? defaultPrintFormat(fields));
  const steps: PrintWriter[] = [];
  let fi = 0;
  for (const p of parts) {
    if (typeof p === 'string') {
      steps.push(literalStep(p));
      continue;
    }
    const f = fields[fi++];
    if (!f) {
      // Only reachable when the engine skipped validatePrintFormat: print what the kernel's safe printer would.
      steps.push(literalStep('(null)'));
      continue;
    }
    steps.push(mismatch(p, f, f.kind) ? literalStep(`[${p.text}: ${f.name}?]`) : conversionStep(p, f));
  }
  if (steps.length === 0) return () => {};
  if (steps.length === 1) return steps[0];
  if (steps.length === 2) {
    const [a, b] = steps;
    return (w, d) => {
      a(w, d);
      b(w, d);
    };
  }
  return (w, d) => {
    for (let i = 0; i < steps.length; i++) steps[i](w, d);
  };
}

interface Compiled {
  readonly write: PrintWriter;
  readonly text: RecordRenderer;
}

const compiled = new WeakMap<EventDescriptor, Compiled>();
let scratch: LineWriter | undefined;

function compiledFor(event: EventDescriptor): Compiled {
  let c = compiled.get(event);
  if (!c) {
    let write: PrintWriter;
    try {
      write = compilePrintFormat(event.print, event.layout);
    } catch (e) {
      write = literalStep(`<bad print format: ${(e as Error).message}>`);
    }
    c = { write, text: (data) => printText(write, data) };
    compiled.set(event, c);
  }
  return c;
}

/** What a print writer writes for `data`, decoded. */
export function printText(write: PrintWriter, data: Uint8Array): string {
  scratch ??= new LineWriter(1024);
  scratch.pos = 0;
  write(scratch, data);
  return scratch.toString();
}

/** The cached print writer of an event (compiled on first use). Never throws: a bad print string writes a marker. */
export function printWriterFor(event: EventDescriptor): PrintWriter {
  return compiledFor(event).write;
}

/** The cached renderer of an event: its print writer's bytes as a string. */
export function rendererFor(event: EventDescriptor): RecordRenderer {
  return compiledFor(event).text;
}
