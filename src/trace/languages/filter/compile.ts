/**
 * Compiles a parsed filter into a JS function with `new Function`, so the emitting thread pays for a few inlined
 * comparisons instead of an interpreter. The jump program becomes nested labelled blocks (`break Lk` = "continue at
 * entry k"); every jump is forward, so the structure always exists. Nothing from the filter text is pasted into the
 * source: field names are emitted through JSON.stringify (and the parser only accepts [A-Za-z0-9_]+ anyway), numbers
 * are printed from parsed bigints, and patterns plus slow-path helpers are passed in a closure array.
 *
 * Fast paths assume the common value types (number for ≤32-bit ints, safe integers for 64-bit ones, strings without
 * NUL); anything else — bigint in a u32, a symbol, a throwing getter — falls to the reference evaluator, which
 * normalizes exactly like the encoder. A filter never throws into the application: if even that fails, the event is
 * recorded (the predicate answers true).
 */
import type { EventDescriptor, TraceRecord } from '../../record.js';
import { cutAtNul } from '../normalize.js';
import {
  type EmitContext,
  evaluateOnRecord,
  evaluateOnValues,
  testOnRecord,
  testOnValues,
  type Values,
} from './evaluate.js';
import { globMatch, MatchType, matchBytes, type StringPattern } from './match.js';
import type { FilterProgram, Predicate } from './parse.js';

export type EmitPredicate = (values: Values, ctx: EmitContext) => boolean;
export type RecordPredicate = (record: TraceRecord) => boolean;

export interface CompiledFilter {
  /** Evaluated by the emitting thread before encoding; true = record the event. */
  readonly matchValues: EmitPredicate;
  /** The same filter over an encoded record (read-time triggers, histograms, tests). */
  readonly matchRecord: RecordPredicate;
}

const INT_LOAD: Record<string, (e: string) => string> = {
  u1: (e) => `(${e} & 255)`,
  s1: (e) => `(${e} << 24 >> 24)`,
  u2: (e) => `(${e} & 65535)`,
  s2: (e) => `(${e} << 16 >> 16)`,
  u4: (e) => `(${e} >>> 0)`,
  s4: (e) => `(${e} | 0)`,
};

const JS_OP: Record<string, string> = { '==': '===', '!=': '!==', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };
/** number-vs-bigint comparisons need the loose operators (=== is always false across types). */
const MIXED_OP: Record<string, string> = { '==': '==', '!=': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

class CodeGen {
  readonly consts: unknown[] = [];
  constructor(readonly event: EventDescriptor) {}

  konst(v: unknown): string {
    this.consts.push(v);
    return `K[${this.consts.length - 1}]`;
  }

  /** The slow leaf: reference evaluation of one predicate. */
  slow(pred: Predicate): string {
    const ev = this.event;
    const fn = (v: Values, c: EmitContext) => testOnValues(pred, ev, v, c);
    return `${this.konst(fn)}(v, c)`;
  }

  numExpr(pred: Extract<Predicate, { kind: 'num' }>): string {
    const f = pred.field;
    const k = Number(pred.value);
    const cmp = (load: string) => (pred.op === '&' ? `((${load} & ${k}) !== 0)` : `(${load} ${JS_OP[pred.op]} ${k})`);
    if (f.source === 'cpu') return cmp('(c.cpu | 0)');
    const l = f.layout!;
    if (f.source === 'common') {
      switch (l.name) {
        case 'common_type':
          return this.slow(pred);
        case 'common_flags':
          return cmp('(c.flags & 255)');
        case 'common_preempt_count':
          return cmp('(c.preemptCount & 255)');
        default:
          return cmp('(c.pid | 0)');
      }
    }
    const access = `v[${JSON.stringify(l.name)}]`;
    if (l.kind === 'bool') return cmp(`(${access} ? 1 : 0)`);
    if (l.kind === 'array') return this.slow(pred);
    if (l.size === 8) {
      if (pred.op === '&') return this.slow(pred);
      const guard = l.signed ? 'Number.isSafeInteger(t)' : 'Number.isSafeInteger(t) && t >= 0';
      return `((t = ${access}), typeof t === "number" && ${guard} ? (t ${MIXED_OP[pred.op]} ${pred.value}n) : ${this.slow(pred)})`;
    }
    // For ≤32-bit ints a non-number (bigint, symbol) throws inside the bit operation and lands in the catch.
    const load = INT_LOAD[`${l.signed ? 's' : 'u'}${l.size}`];
    return `((t = ${access}), typeof t === "number" ? ${cmp(load('t'))} : ${this.slow(pred)})`;
  }

  strExpr(pred: Extract<Predicate, { kind: 'str' }>): string {
    const f = pred.field;
    if (f.stringKind !== 'dyn') return this.slow(pred);
    const p = pred.pattern;
    const neg = pred.not ? '!' : '';
    const pk = this.konst(p.text);
    // C stops at a NUL: "ab\0cd" equals "ab". A prefix test needs no care (the pattern has no NUL); infix and
    // suffix matches scan the stored bytes whole, like JS does.
    let m: string;
    const guard = 'typeof t === "string"';
    switch (p.type) {
      case MatchType.Full:
        m = `t === ${pk} || (t.length > ${pk}.length && t.charCodeAt(${pk}.length) === 0 && t.startsWith(${pk}))`;
        break;
      case MatchType.Front:
        m = `t.startsWith(${pk})`;
        break;
      case MatchType.Middle:
        m = `t.includes(${pk})`;
        break;
      case MatchType.End:
        m = `t.endsWith(${pk})`;
        break;
      default:
        m = `${this.konst(globOnString(p))}(t)`;
        break;
    }
    return `((t = v[${JSON.stringify(f.name)}]), ${guard} ? ${neg}(${m}) : ${this.slow(pred)})`;
  }

  predExpr(pred: Predicate): string {
    if (pred.kind === 'nop') return 'false';
    if (pred.kind === 'num') return this.numExpr(pred);
    return this.strExpr(pred);
  }
}

/** Source of the program body: nested labelled blocks, innermost first. */
function programBody(program: FilterProgram, gen: { predExpr(p: Predicate): string }): string {
  const e = program.entries;
  const n = e.length;
  // Which positions (entry indices) are jump destinations other than the two exits.
  const labels = new Set<number>();
  for (const entry of e) if (entry.target + 1 < n) labels.add(entry.target + 1);
  const sorted = [...labels].sort((a, b) => b - a);
  let code = '';
  // Open blocks for every label, outermost (largest position) first.
  for (const pos of sorted) code += `L${pos}: {\n`;
  for (let i = 0; i < n; i++) {
    if (labels.has(i)) code += `}\n`;
    const entry = e[i];
    const dest = entry.target + 1;
    const jump = dest === n ? 'return true;' : dest === n + 1 ? 'return false;' : `break L${dest};`;
    const expr = gen.predExpr(entry.pred);
    code += `if (${entry.whenToBranch ? '' : '!'}${expr}) ${jump}\n`;
  }
  code += 'return true;\n';
  return code;
}

const glob8 = new TextEncoder();

/**
 * A glob matcher for JS strings: runs lib/glob.c semantics directly on the UTF-16 code units while they are ASCII
 * (then units and bytes coincide), and on the UTF-8 bytes otherwise.
 */
function globOnString(p: StringPattern): (s: string) => boolean {
  return (s: string) => {
    const c = cutAtNul(s);
    for (let i = 0; i < c.length; i++) {
      if (c.charCodeAt(i) > 127) {
        const b = glob8.encode(c);
        return globMatch(p.bytes, b, 0, b.length + 1);
      }
    }
    return globMatchAscii(p.bytes, c);
  };
}

function globMatchAscii(pat: Uint8Array, s: string): boolean {
  const b = asciiScratch(s);
  return globMatch(pat, b, 0, s.length + 1);
}

let scratch = new Uint8Array(256);
function asciiScratch(s: string): Uint8Array {
  if (scratch.length < s.length + 1) scratch = new Uint8Array(s.length * 2 + 1);
  for (let i = 0; i < s.length; i++) scratch[i] = s.charCodeAt(i);
  scratch[s.length] = 0;
  return scratch;
}

export function compileFilter(program: FilterProgram, event: EventDescriptor): CompiledFilter {
  const gen = new CodeGen(event);
  const body = programBody(program, gen);
  const slowAll = (v: Values, c: EmitContext) => {
    try {
      return evaluateOnValues(program, event, v, c);
    } catch {
      return true;
    }
  };
  const src = `"use strict";\nreturn function ntraceFilter(v, c) {\nlet t;\ntry {\n${body}} catch (e) {\nreturn S(v, c);\n}\n};`;
  const matchValues = new Function('K', 'S', src)(gen.consts, slowAll) as EmitPredicate;
  const rgen = new RecordCodeGen();
  const rbody = programBody(program, rgen);
  const rsrc = `"use strict";\nreturn function ntraceRecordFilter(r) {\ntry {\nconst b = r.data;\n${rbody}} catch (e) {\nreturn S(r);\n}\n};`;
  const slowRecord = (rec: TraceRecord) => {
    try {
      return evaluateOnRecord(program, rec);
    } catch {
      return true;
    }
  };
  const matchRecord = new Function('K', 'S', rsrc)(rgen.consts, slowRecord) as RecordPredicate;
  return { matchValues, matchRecord };
}

/** The same program over an encoded record: little-endian byte loads at the layout's offsets. */
class RecordCodeGen {
  readonly consts: unknown[] = [];

  private slow(pred: Predicate): string {
    this.consts.push((r: TraceRecord) =>
      testOnRecord(pred, r, new DataView(r.data.buffer, r.data.byteOffset, r.data.byteLength)),
    );
    return `K[${this.consts.length - 1}](r)`;
  }

  predExpr(pred: Predicate): string {
    if (pred.kind === 'nop') return 'false';
    const f = pred.field;
    if (pred.kind === 'str') {
      if (f.stringKind === 'comm') return this.slow(pred);
      const p = pred.pattern;
      const not = pred.not;
      const o = f.layout!.offset;
      const m =
        f.stringKind === 'static'
          ? (b: Uint8Array) => matchBytes(p, b, o, f.size) !== not
          : (b: Uint8Array) => {
              const loc = (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
              const off = loc & 0xffff;
              return matchBytes(p, b, off, Math.min(loc >>> 16, Math.max(0, b.length - off))) !== not;
            };
      this.consts.push(m);
      return `K[${this.consts.length - 1}](b)`;
    }
    if (f.source === 'cpu') return numCompare(pred.op, '(r.cpu | 0)', `${Number(pred.value)}`, false);
    const l = f.layout!;
    const o = l.offset;
    const k = `${Number(pred.value)}`;
    switch (l.size) {
      case 1:
        return numCompare(pred.op, l.signed ? `(b[${o}] << 24 >> 24)` : `b[${o}]`, k, false);
      case 2: {
        const u = `(b[${o}] | (b[${o + 1}] << 8))`;
        return numCompare(pred.op, l.signed ? `(${u} << 16 >> 16)` : u, k, false);
      }
      case 4: {
        const u = `(b[${o}] | (b[${o + 1}] << 8) | (b[${o + 2}] << 16) | (b[${o + 3}] << 24))`;
        return numCompare(pred.op, l.signed ? u : `(${u} >>> 0)`, k, false);
      }
      default:
        return this.slow(pred);
    }
  }
}

function numCompare(op: string, load: string, k: string, big: boolean): string {
  if (op === '&') return big ? `((${load} & ${k}) !== 0n)` : `((${load} & ${k}) !== 0)`;
  return `(${load} ${JS_OP[op]} ${k})`;
}
