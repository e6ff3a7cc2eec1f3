/**
 * Building a histogram key from the values of one emit, as the kernel builds it from the record: each numeric key is
 * the field's value as a u64 (signed fields sign-extended), after `.log2` / `.buckets=N`; string keys are the bytes
 * up to the first NUL, at most size-1 of them. Numeric keys take two u32 words (lo, hi) of the key buffer.
 */
import type { EmitContext, Values } from '../filter/evaluate.js';
import { toBool, toInt32Like, toInt64, toStringValue } from '../normalize.js';
import type { HistFieldSpec } from './spec.js';

export function keyFieldBytes(f: HistFieldSpec): number {
  return f.string ? (f.size + 7) & ~7 : 8;
}

/** lo/hi of a u64 held in two numbers (results of the key computations). */
export interface U64 {
  lo: number;
  hi: number;
}

const TWO32 = 4294967296;

function fromBig(b: bigint, out: U64): void {
  const u = BigInt.asUintN(64, b);
  out.lo = Number(u & 0xffffffffn);
  out.hi = Number(u >> 32n);
}

/** The raw value of a numeric field as a u64 (kernel: (u64)(long)*addr). */
export function fieldU64(f: HistFieldSpec, v: Values, c: EmitContext, out: U64): void {
  let x: number;
  switch (f.source) {
    case 'cpu':
      x = c.cpu | 0;
      break;
    case 'common_pid':
      x = c.pid | 0;
      break;
    case 'common': {
      if (f.name === 'common_flags') x = (c.flags ?? 0) & 0xff;
      else if (f.name === 'common_preempt_count') x = (c.preemptCount ?? 0) & 0xff;
      else x = 0;
      break;
    }
    default: {
      const raw = v[f.name];
      if (f.kind === 'bool') x = toBool(raw);
      else if (f.size === 8) {
        if (typeof raw === 'number' && Number.isSafeInteger(raw)) {
          if (raw >= 0) {
            out.hi = Math.floor(raw / TWO32);
            out.lo = raw - out.hi * TWO32;
            return;
          }
        }
        fromBig(toInt64(raw, f.signed), out);
        return;
      } else x = typeof raw === 'number' ? wrap(raw, f.size, f.signed) : toInt32Like(raw, f.size, f.signed);
    }
  }
  out.lo = x >>> 0;
  out.hi = x < 0 ? 0xffffffff : 0;
}

function wrap(n: number, size: number, signed: boolean): number {
  n |= 0;
  if (size === 1) return signed ? (n << 24) >> 24 : n & 0xff;
  if (size === 2) return signed ? (n << 16) >> 16 : n & 0xffff;
  return signed ? n : n >>> 0;
}

/** `.log2`: ilog2(roundup_pow_of_two(v)), 0 for 0 and 1. */
export function log2U64(v: U64): void {
  if (v.hi === 0 && v.lo <= 1) {
    v.lo = 0;
    return;
  }
  const lo1 = (v.lo - 1) >>> 0;
  const hi1 = v.lo === 0 ? v.hi - 1 : v.hi;
  v.lo = hi1 !== 0 ? 64 - Math.clz32(hi1) : 32 - Math.clz32(lo1);
  v.hi = 0;
}

/** `.buckets=N`: v / N * N. */
export function bucketU64(v: U64, n: number): void {
  if (v.hi === 0) {
    v.lo = Math.floor(v.lo / n) * n;
    if (v.lo >= TWO32) {
      v.hi = Math.floor(v.lo / TWO32);
      v.lo -= v.hi * TWO32;
    }
    return;
  }
  const b = (BigInt(v.hi) << 32n) | BigInt(v.lo);
  fromBig((b / BigInt(n)) * BigInt(n), v);
}

/** Value of a numeric key or val after its modifier. */
export function modifiedU64(f: HistFieldSpec, v: Values, c: EmitContext, out: U64): void {
  fieldU64(f, v, c, out);
  if (f.flag === 'log2') log2U64(out);
  else if (f.flag === 'buckets') bucketU64(out, f.buckets);
}

const encoder = new TextEncoder();

/**
 * Writes a string key's bytes (up to the first NUL, at most `max` bytes) at `at`; the rest must already be zero.
 * Returns the number of bytes written.
 */
export function writeStringKey(dst: Uint8Array, at: number, s: string, max: number): number {
  const n = s.length;
  let i = 0;
  for (; i < n && i < max; i++) {
    const ch = s.charCodeAt(i);
    if (ch === 0) return i;
    if (ch > 127) break;
    dst[at + i] = ch;
  }
  if (i >= n || i >= max) return i;
  const rest = encoder.encode(s.slice(i));
  for (let k = 0; k < rest.length && i < max; k++, i++) {
    if (rest[k] === 0) return i;
    dst[at + i] = rest[k];
  }
  return i;
}

/** The string value of a string key field (writeStringKey then keeps size-1 bytes, as the kernel's strncpy). */
export function stringKeyValue(f: HistFieldSpec, v: Values): string {
  return toStringValue(v[f.name]);
}

/** Mixes the key words into a 32-bit hash (never 0, so 0 can mean "empty" elsewhere). */
export function hashKey(words: Uint32Array, n: number = words.length): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < n; i++) {
    h = Math.imul(h ^ words[i], 0x01000193);
    h ^= h >>> 15;
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h ^= h >>> 13;
  return h | 1;
}
