/**
 * The kernel's event filter parser (trace_events_filter.c), reimplemented: the same two passes (a bracket/quote
 * count, then a single left-to-right pass that builds a jump program with `&&` binding tighter than `||`), the same
 * error codes, positions and errnos — including the odd ones users and tools see (an unbalanced `(` answers ENOENT,
 * a stray `)` EPERM, a missing quote ESRCH, a trailing `&&` is accepted).
 */
import { isAlnum, isDigit, isSpace, kstrtoll, kstrtoull } from '../cstring.js';
import { EINVAL, ENOENT, EPERM, ESRCH } from '../errno.js';
import type { FieldTable, FilterField } from './fields.js';
import { buildPattern, type StringPattern } from './match.js';

/** FILT_ERR_* messages, in the kernel's order; index 0 has no text ("Error" is what error_log shows then). */
export const FILTER_ERRORS = {
  NONE: 'No error',
  INVALID_OP: 'Invalid operator',
  TOO_MANY_OPEN: "Too many '('",
  TOO_MANY_CLOSE: "Too few '('",
  MISSING_QUOTE: 'Missing matching quote',
  MISSING_BRACE_OPEN: "Missing '{'",
  MISSING_BRACE_CLOSE: "Missing '}'",
  OPERAND_TOO_LONG: 'Operand too long',
  EXPECT_STRING: 'Expecting string field',
  EXPECT_DIGIT: 'Expecting numeric field',
  ILLEGAL_FIELD_OP: 'Illegal operation for field type',
  FIELD_NOT_FOUND: 'Field not found',
  ILLEGAL_INTVAL: 'Illegal integer value',
  BAD_SUBSYS_FILTER: "Couldn't find or set field in one of a subsystem's events",
  TOO_MANY_PREDS: 'Too many terms in predicate expression',
  INVALID_FILTER: 'Meaningless filter expression',
  INVALID_CPULIST: 'Invalid cpulist',
  IP_FIELD_ONLY: "Only 'ip' field is supported for function trace",
  INVALID_VALUE: 'Invalid value (did you forget quotes)?',
  NO_FUNCTION: 'Function not found',
  ERRNO: 'Error',
  NO_FILTER: 'No filter found',
} as const;

export type FilterErrorMessage = (typeof FILTER_ERRORS)[keyof typeof FILTER_ERRORS];

/** Longest quoted string (MAX_FILTER_STR_VAL - 1) and number (num_buf) the kernel accepts. */
export const MAX_FILTER_STR_VAL = 256;
const NUM_BUF = 24;

export type NumOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | '&';
type Op = NumOp | '~';
/** Longest match first, as the kernel's table is ordered. */
const OPS: readonly Op[] = ['~', '!=', '==', '<=', '<', '>=', '>', '&'];

export type Predicate =
  | { readonly kind: 'num'; readonly field: FilterField; readonly op: NumOp; readonly value: bigint }
  | { readonly kind: 'str'; readonly field: FilterField; readonly pattern: StringPattern; readonly not: boolean }
  /** A comparison the kernel has no function for (numeric op on an array whose size is not 1/2/4/8): never true. */
  | { readonly kind: 'nop'; readonly field: FilterField };

/** One step of the program: evaluate `pred`; when the result equals `whenToBranch`, continue at `target + 1`. */
export interface ProgramEntry {
  readonly pred: Predicate;
  whenToBranch: boolean;
  target: number;
}

/** A parsed filter: entries 0..N-1; continuing at N means "match", at N+1 "no match". */
export interface FilterProgram {
  readonly entries: readonly ProgramEntry[];
}

export interface FilterParseError {
  readonly errno: number;
  /** The FILT_ERR text, or undefined when the kernel has none for this failure (read-back shows `Error: (0)`). */
  readonly message: FilterErrorMessage | undefined;
  /** lasterr_pos: index into the filter string the caret points at. */
  readonly pos: number;
}

export type FilterParseResult = { ok: true; program: FilterProgram } | { ok: false; error: FilterParseError };

class ParseFailure {
  constructor(
    readonly errno: number,
    readonly message: FilterErrorMessage | undefined,
    readonly pos: number,
  ) {}
}

function fail(errno: number, message: FilterErrorMessage | undefined, pos: number): never {
  throw new ParseFailure(errno, message, pos);
}

/** Parses `text` (already stripped of trailing whitespace) against an event's fields. Never throws. */
export function parseFilter(text: string, fields: FieldTable): FilterParseResult {
  try {
    const { parens, preds } = countStack(text);
    if (preds === 0) fail(EINVAL, undefined, 0);
    return { ok: true, program: buildProgram(text, parens, preds, fields) };
  } catch (e) {
    if (e instanceof ParseFailure) return { ok: false, error: { errno: e.errno, message: e.message, pos: e.pos } };
    throw e;
  }
}

/** calc_stack(): bracket depth and a predicate count, or the bracket/quote error with its errno. */
function countStack(str: string): { parens: number; preds: number } {
  let isPred = false;
  let preds = 0;
  let open = 1;
  let maxOpen = 1;
  let quote = '';
  let lastQuote = 0;
  let i = 0;
  for (; i < str.length; i++) {
    const c = str[i];
    if (isSpace(c)) continue;
    if (quote) {
      if (c === quote) quote = '';
      continue;
    }
    switch (c) {
      case "'":
      case '"':
        quote = c;
        lastQuote = i;
        break;
      case '|':
      case '&':
        if (str[i + 1] !== c) break;
        isPred = false;
        continue;
      case '(':
        isPred = false;
        open++;
        if (open > maxOpen) maxOpen = open;
        continue;
      case ')':
        isPred = false;
        if (open === 1) fail(EPERM, FILTER_ERRORS.TOO_MANY_CLOSE, i);
        open--;
        continue;
    }
    if (!isPred) {
      preds++;
      isPred = true;
    }
  }
  if (quote) fail(ESRCH, FILTER_ERRORS.MISSING_QUOTE, lastQuote);
  if (open !== 1) {
    // Find the '(' that has no match, scanning back (index 0 is never examined: it reports 0 either way).
    let level = open;
    quote = '';
    for (i--; i > 0; i--) {
      const c = str[i];
      if (quote) {
        if (c === quote) quote = '';
        continue;
      }
      if (c === '(') {
        if (level === open) fail(ENOENT, FILTER_ERRORS.TOO_MANY_OPEN, i);
        level--;
      } else if (c === ')') level++;
      else if (c === "'" || c === '"') quote = c;
    }
    fail(ENOENT, FILTER_ERRORS.TOO_MANY_OPEN, 0);
  }
  return { parens: maxOpen, preds };
}

const INVERT = 1;
const PROCESS_AND = 2;
const PROCESS_OR = 4;

/** predicate_parse(): the single pass that turns the expression into a forward-jumping program. */
function buildProgram(str: string, nrParens: number, nrPreds: number, fields: FieldTable): FilterProgram {
  const entries: ProgramEntry[] = [];
  const inverts: boolean[] = [];
  const stack: number[] = [0];
  let invert = false;
  let ptr = 0;
  const len = str.length;
  nrPreds += 2;
  const relink = (n: number, branch: boolean) => {
    const t = entries[n].target;
    if (t < 0 || t >= entries.length) fail(EINVAL, undefined, 0);
    const s = entries[t].target;
    entries[t].whenToBranch = branch;
    entries[t].target = n;
    entries[n].target = s;
  };
  outer: while (ptr < len) {
    let next = ptr++;
    const c = str[next];
    if (isSpace(c)) continue;
    if (c === '(') {
      if (stack.length - 1 > nrParens) fail(EINVAL, undefined, 0);
      stack.push(invert ? INVERT : 0);
      continue;
    }
    if (c === '!' && str[next + 1] !== '=' && str[next + 1] !== '~') {
      invert = !invert;
      continue;
    }
    if (entries.length >= nrPreds) fail(EPERM, FILTER_ERRORS.TOO_MANY_PREDS, next);
    inverts.push(invert);
    const { pred, end } = parsePredicate(str, next, fields);
    entries.push({ pred, whenToBranch: false, target: entries.length - 1 });
    ptr = end;
    for (;;) {
      next = ptr++;
      const d = next < len ? str[next] : '\0';
      if (isSpace(d)) continue;
      if (d === '&' || d === '|') {
        if (str[next + 1] !== d) fail(EPERM, FILTER_ERRORS.TOO_MANY_PREDS, next);
        ptr++;
      } else if (d !== ')' && d !== '\0') fail(EPERM, FILTER_ERRORS.TOO_MANY_PREDS, next);
      let top = stack[stack.length - 1];
      invert = (top & INVERT) !== 0;
      if (top & PROCESS_AND) {
        relink(entries.length - 1, invert);
        top &= ~PROCESS_AND;
      }
      if (d === '&') {
        stack[stack.length - 1] = top | PROCESS_AND;
        continue outer;
      }
      if (top & PROCESS_OR) {
        relink(entries.length - 1, !invert);
        top &= ~PROCESS_OR;
      }
      stack[stack.length - 1] = top;
      if (d === '|') {
        stack[stack.length - 1] = top | PROCESS_OR;
        continue outer;
      }
      if (d === '\0') break outer;
      if (stack.length === 1) fail(EPERM, FILTER_ERRORS.TOO_MANY_CLOSE, ptr);
      stack.pop();
    }
  }
  if (stack.length !== 1) fail(EPERM, FILTER_ERRORS.TOO_MANY_OPEN, ptr);
  const n = entries.length;
  if (n === 0) fail(EINVAL, FILTER_ERRORS.NO_FILTER, ptr);
  entries[n - 1].target = n;
  entries[n - 1].whenToBranch = false;
  // Jump threading: a branch to an entry that branches on the same value can go straight to that entry's target.
  for (let i = n - 2; i >= 0; i--) {
    const t = entries[i].target;
    if (t < 0 || t >= n) fail(EINVAL, undefined, 0);
    if (entries[i].whenToBranch === entries[t].whenToBranch) entries[i].target = entries[t].target;
  }
  for (let i = 0; i < n; i++) {
    entries[i].whenToBranch = entries[i].whenToBranch !== inverts[i];
    if (entries[i].target <= i) fail(EINVAL, undefined, 0);
  }
  return { entries };
}

/** parse_pred(): `field op value` starting at `start`; returns the predicate and the index just after it. */
function parsePredicate(str: string, start: number, fields: FieldTable): { pred: Predicate; end: number } {
  // The kernel reports positions as (start + 1) + offset-within-the-predicate.
  const base = start + 1;
  let i = start;
  while (isSpace(str[i])) i++;
  const nameStart = i;
  while (isAlnum(str[i]) || str[i] === '_') i++;
  if (i === nameStart) fail(EPERM, undefined, 0);
  const field = fields.find(str.slice(nameStart, i));
  if (!field) fail(EINVAL, FILTER_ERRORS.FIELD_NOT_FOUND, base + i - start);
  while (isSpace(str[i])) i++;
  let op: Op | undefined;
  for (const o of OPS) {
    if (str.startsWith(o, i)) {
      op = o;
      break;
    }
  }
  if (!op) fail(EINVAL, FILTER_ERRORS.INVALID_OP, base + i - start);
  i += op.length;
  while (isSpace(str[i])) i++;
  const s = i;
  const c = str[i];
  if (c === "'" || c === '"') {
    if (op !== '==' && op !== '!=' && op !== '~') fail(EINVAL, FILTER_ERRORS.ILLEGAL_FIELD_OP, base + i - start);
    if (!field.stringKind) fail(EINVAL, FILTER_ERRORS.EXPECT_DIGIT, base + i - start);
    for (i++; i < str.length; i++) if (str[i] === c) break;
    if (i >= str.length) fail(EINVAL, FILTER_ERRORS.MISSING_QUOTE, base + i - start);
    const text = str.slice(s + 1, i);
    if (utf8Length(text) >= MAX_FILTER_STR_VAL) fail(EINVAL, FILTER_ERRORS.OPERAND_TOO_LONG, base + i - start);
    const pattern = buildPattern(text, op === '~');
    const not = op === '!=' ? true : pattern.not;
    return { pred: { kind: 'str', field, pattern, not }, end: i + 1 };
  }
  if (isDigit(c) || c === '-') {
    if (field.stringKind) fail(EINVAL, FILTER_ERRORS.EXPECT_STRING, base + i - start);
    if (op === '~') fail(EINVAL, FILTER_ERRORS.ILLEGAL_FIELD_OP, base + i - start);
    if (c === '-') i++;
    while (isAlnum(str[i])) i++;
    if (i - s >= NUM_BUF) fail(EINVAL, FILTER_ERRORS.OPERAND_TOO_LONG, base + i - start);
    const num = str.slice(s, i);
    const v = field.signed ? kstrtoll(num) : kstrtoull(num);
    if (v === undefined) fail(EINVAL, FILTER_ERRORS.ILLEGAL_INTVAL, base + s - start);
    const size = field.size;
    if (field.source !== 'cpu' && size !== 1 && size !== 2 && size !== 4 && size !== 8) {
      return { pred: { kind: 'nop', field }, end: i };
    }
    // The kernel casts the u64 constant to the field's type before comparing.
    const bits = BigInt(size * 8);
    const value = field.signed ? BigInt.asIntN(Number(bits), v) : BigInt.asUintN(Number(bits), v);
    return { pred: { kind: 'num', field, op: op as NumOp, value }, end: i };
  }
  fail(EINVAL, FILTER_ERRORS.INVALID_VALUE, base + i - start);
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}
