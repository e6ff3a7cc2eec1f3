/**
 * An event's print string: the printf-style format given at definition (or the default `name=value` one), whose
 * conversions take the event's fields in declaration order. Parsed and checked once; compiled into a renderer that
 * turns record bytes into the text after `<event>: ` on a trace line.
 */
import type { EventLayout, FieldLayout } from '../layout.js';
import { parseFieldType } from '../layout.js';
import type { EventDescriptor } from '../record.js';
import { type ConversionSpec, formatChar, formatInteger, formatString } from './printf.js';
import { formatArray, readIntField, readSmallInt, readStringField } from './record-fields.js';

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

export type RecordRenderer = (data: Uint8Array) => string;

function compileConversion(spec: ConversionSpec, f: FieldLayout): RecordRenderer {
  if (spec.conv === 's') {
    const plain = spec.width < 0 && spec.precision < 0;
    if (f.kind === 'array') {
      return plain ? (d) => formatArray(d, f) : (d) => formatString(formatArray(d, f), spec);
    }
    return plain ? (d) => readStringField(d, f) : (d) => formatString(readStringField(d, f), spec);
  }
  if (spec.conv === 'c') return (d) => formatChar(readIntField(d, f), spec);
  // Fast path for the most common case: a plain %d/%u/%lld/%llu whose argument type holds the field unchanged.
  const plain =
    !spec.left && !spec.plus && !spec.space && !spec.alt && !spec.zero && spec.width < 0 && spec.precision < 0;
  if (plain && (spec.conv === 'd' || spec.conv === 'i' || spec.conv === 'u')) {
    const bits = spec.length === '' ? 32 : spec.length === 'h' ? 16 : spec.length === 'hh' ? 8 : 64;
    const signedConv = spec.conv !== 'u';
    const size = f.elemSize * 8;
    // The C cast is a no-op when every value of the field fits the conversion's argument type.
    const fits = signedConv ? (f.signed ? size <= bits : size < bits) : !f.signed && size <= bits;
    if (fits) {
      if (f.elemSize === 8) return (d) => readIntField(d, f).toString();
      return (d) => String(readSmallInt(d, f.offset, f.elemSize, f.signed));
    }
  }
  return (d) => formatInteger(readIntField(d, f), spec);
}

/** Compiles an event's print string (or its default) into a renderer of the text after `<event>: `. */
export function compilePrintFormat(print: string | undefined, layout: EventLayout): RecordRenderer {
  const fields = layout.fields;
  const parts = parsePrintFormat(print ?? defaultPrintFormat(fields));
  const pieces: (string | RecordRenderer)[] = [];
  let fi = 0;
  for (const p of parts) {
    if (typeof p === 'string') {
      pieces.push(p);
      continue;
    }
    const f = fields[fi++];
    if (!f) {
      // Only reachable when the engine skipped validatePrintFormat: print what the kernel's safe printer would.
      pieces.push('(null)');
      continue;
    }
    if (mismatch(p, f, f.kind)) pieces.push(`[${p.text}: ${f.name}?]`);
    else pieces.push(compileConversion(p, f));
  }
  if (pieces.length === 1 && typeof pieces[0] === 'string') {
    const s = pieces[0];
    return () => s;
  }
  return (data) => {
    let out = '';
    for (const p of pieces) out += typeof p === 'string' ? p : p(data);
    return out;
  };
}

const compiled = new WeakMap<EventDescriptor, RecordRenderer>();

/** The cached renderer of an event (compiled on first use). Never throws: a bad print string renders a marker. */
export function rendererFor(event: EventDescriptor): RecordRenderer {
  let r = compiled.get(event);
  if (!r) {
    try {
      r = compilePrintFormat(event.print, event.layout);
    } catch (e) {
      const msg = `<bad print format: ${(e as Error).message}>`;
      r = () => msg;
    }
    compiled.set(event, r);
  }
  return r;
}
