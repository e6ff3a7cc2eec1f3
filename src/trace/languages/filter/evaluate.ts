/**
 * Reference evaluation of a parsed filter: one interpreter over the jump program, fed either by the JS values given
 * to `emit` (normalized exactly as the encoder stores them) or by an encoded record. The compiled predicate falls back
 * to `evaluateOnValues` whenever its fast path meets a value it does not expect, so all three agree by construction.
 */

import type { EventDescriptor, TraceRecord } from '../../record.js';
import {
  cutAtNul,
  loadIntLE,
  readIntLE,
  toArrayBytes,
  toBool,
  toCharsBytes,
  toInt32Like,
  toInt64,
  toStringValue,
} from '../normalize.js';
import { COMM_LEN } from './fields.js';
import { globMatch, MatchType, matchBytes, type StringPattern } from './match.js';
import type { FilterProgram, NumOp, Predicate } from './parse.js';

/** What the emitting thread knows besides the values: the header fields the kernel fills in itself. */
export interface EmitContext {
  /** common_pid */
  readonly pid: number;
  /** ntrace's CPU: index of the emitting thread's ring buffer. */
  readonly cpu: number;
  /** The thread's name as trace lines show it (COMM compares its first 15 bytes, like the kernel's task comm). */
  readonly comm: string;
  /** common_flags and common_preempt_count, when the engine records anything there (0 otherwise). */
  readonly flags?: number;
  readonly preemptCount?: number;
}

export type Values = Readonly<Record<string, unknown>>;

export function runProgram(program: FilterProgram, test: (p: Predicate) => boolean): boolean {
  const e = program.entries;
  const n = e.length;
  let i = 0;
  while (i < n) {
    const entry = e[i];
    if (test(entry.pred) === entry.whenToBranch) i = entry.target + 1;
    else i++;
  }
  return i === n;
}

export function compareNum(op: NumOp, x: number | bigint, k: number | bigint): boolean {
  switch (op) {
    case '==':
      return x === k;
    case '!=':
      return x !== k;
    case '<':
      return x < k;
    case '<=':
      return x <= k;
    case '>':
      return x > k;
    case '>=':
      return x >= k;
    default:
      if (typeof x === 'bigint') return (x & (k as bigint)) !== 0n;
      return ((x as number) & (k as number)) !== 0;
  }
}

const encoder = new TextEncoder();

/** Kernel match of a pattern against a JS string value (a `__data_loc` string: length = bytes + NUL). */
export function matchString(p: StringPattern, s: string): boolean {
  switch (p.type) {
    case MatchType.Full:
      return cutAtNul(s) === p.text;
    case MatchType.Front:
      return cutAtNul(s).startsWith(p.text);
    case MatchType.Middle:
      return s.includes(p.text);
    case MatchType.End:
      return s.endsWith(p.text);
    default: {
      const b = encoder.encode(cutAtNul(s));
      return globMatch(p.bytes, b, 0, b.length + 1);
    }
  }
}

/** The COMM pseudo field as the kernel holds it: 15 bytes at most, NUL-padded to 16. */
export function commBytes(comm: string): Uint8Array {
  const out = new Uint8Array(COMM_LEN);
  encoder.encodeInto(toStringValue(comm), out.subarray(0, COMM_LEN - 1));
  return out;
}

/** Value of a numeric predicate's field, normalized to its stored type (number up to 32 bits, bigint for 64). */
function numericFromValues(pred: Predicate, event: EventDescriptor, v: Values, c: EmitContext): number | bigint {
  const f = pred.field;
  if (f.source === 'cpu') return toInt32Like(c.cpu, 4, true);
  const l = f.layout!;
  if (f.source === 'common') {
    switch (l.name) {
      case 'common_type':
        return event.id & 0xffff;
      case 'common_flags':
        return toInt32Like(c.flags, 1, false);
      case 'common_preempt_count':
        return toInt32Like(c.preemptCount, 1, false);
      default:
        return toInt32Like(c.pid, 4, true);
    }
  }
  const raw = v[l.name];
  if (l.kind === 'bool') return toBool(raw);
  if (l.kind === 'array') return readIntLE(toArrayBytes(raw, l.elemSize, l.count, l.signed), 0, l.size, l.signed);
  if (l.size === 8) return toInt64(raw, l.signed);
  return toInt32Like(raw, l.size, l.signed);
}

export function testOnValues(pred: Predicate, event: EventDescriptor, v: Values, c: EmitContext): boolean {
  if (pred.kind === 'nop') return false;
  if (pred.kind === 'num') {
    const x = numericFromValues(pred, event, v, c);
    return compareNum(pred.op, x, typeof x === 'bigint' ? pred.value : Number(pred.value));
  }
  const f = pred.field;
  let r: boolean;
  if (f.stringKind === 'comm') r = matchBytes(pred.pattern, commBytes(c.comm), 0, COMM_LEN);
  else if (f.stringKind === 'static') r = matchBytes(pred.pattern, toCharsBytes(v[f.name], f.size), 0, f.size);
  else r = matchString(pred.pattern, toStringValue(v[f.name]));
  return r !== pred.not;
}

export function testOnRecord(pred: Predicate, rec: TraceRecord, dv: DataView): boolean {
  if (pred.kind === 'nop') return false;
  const f = pred.field;
  const data = rec.data;
  if (pred.kind === 'num') {
    let x: number | bigint;
    if (f.source === 'cpu') x = rec.cpu | 0;
    else {
      const l = f.layout!;
      x = loadIntLE(dv, l.offset, l.size, l.signed);
    }
    return compareNum(pred.op, x, typeof x === 'bigint' ? pred.value : Number(pred.value));
  }
  let r: boolean;
  if (f.stringKind === 'comm') r = matchBytes(pred.pattern, commBytes(rec.comm), 0, COMM_LEN);
  else if (f.stringKind === 'static') r = matchBytes(pred.pattern, data, f.layout!.offset, f.size);
  else {
    const loc = dv.getUint32(f.layout!.offset, true);
    const off = loc & 0xffff;
    const len = loc >>> 16;
    // A length beyond the record (never written by the encoder) is clamped rather than read past the end.
    r = matchBytes(pred.pattern, data, off, Math.min(len, Math.max(0, data.length - off)));
  }
  return r !== pred.not;
}

export function evaluateOnValues(program: FilterProgram, event: EventDescriptor, v: Values, c: EmitContext): boolean {
  return runProgram(program, (p) => testOnValues(p, event, v, c));
}

export function evaluateOnRecord(program: FilterProgram, rec: TraceRecord): boolean {
  const dv = new DataView(rec.data.buffer, rec.data.byteOffset, rec.data.byteLength);
  const e = program.entries;
  const n = e.length;
  let i = 0;
  while (i < n) {
    const entry = e[i];
    if (testOnRecord(entry.pred, rec, dv) === entry.whenToBranch) i = entry.target + 1;
    else i++;
  }
  return i === n;
}
