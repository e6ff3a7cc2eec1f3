/**
 * The `inject` file (trace_events_inject.c): `field=value ...` pairs become the values object of an emit, as if the
 * application had emitted the event. Kernel rules: numbers in any base (kstrtoll/kstrtoull, `-` only for signed
 * fields) must end at a blank; strings are quoted with ' or " and a backslash protects the next character (it is
 * kept, not interpreted); a char[N] keeps N-1 bytes; unknown field → ENOENT; anything malformed → EINVAL; a number out
 * of range → ERANGE. Integers wrap to the field's size (u8 of 300 is 44). Later pairs win.
 */
import type { EventDescriptor } from '../../record.js';
import { isAlnum, isDigit, isSpace, kstrtoxxErrno, strim } from '../cstring.js';
import { EINVAL, ENOENT, ERANGE } from '../errno.js';
import { fieldTable } from '../filter/fields.js';
import { MAX_FILTER_STR_VAL } from '../filter/parse.js';

export interface InjectValues {
  /** Values keyed by field name, ready for the event's encoder (numbers; bigint for 64-bit fields; strings). */
  readonly values: Record<string, unknown>;
  /** Header fields the text set explicitly (common_pid, common_flags, common_preempt_count). */
  readonly common: { pid?: number; flags?: number; preemptCount?: number };
}

export type InjectResult = { ok: true; inject: InjectValues } | { ok: false; errno: number };

const encoder = new TextEncoder();

/** Keeps at most `max` UTF-8 bytes of `s` without splitting a character (strlcpy into char[N] keeps N-1). */
function truncateUtf8(s: string, max: number): string {
  const b = encoder.encode(s);
  if (b.length <= max) return s;
  let m = max;
  while (m > 0 && (b[m] & 0xc0) === 0x80) m--;
  return Buffer.from(b.subarray(0, m)).toString('utf8');
}

export function parseInject(event: EventDescriptor, input: string): InjectResult {
  const nul = input.indexOf('\0');
  const str = strim(nul < 0 ? input : input.slice(0, nul));
  const fields = fieldTable(event);
  const values: Record<string, unknown> = Object.create(null);
  const common: InjectValues['common'] = {};
  let p = 0;
  while (p < str.length) {
    let i = p;
    while (isSpace(str[i])) i++;
    const s0 = i;
    while (isAlnum(str[i]) || str[i] === '_') i++;
    if (i === s0) return { ok: false, errno: EINVAL };
    const field = fields.find(str.slice(s0, i));
    if (!field) return { ok: false, errno: ENOENT };
    // The pseudo fields (CPU, COMM) are not record fields: nothing to inject into.
    if (field.source === 'cpu' || field.source === 'comm') return { ok: false, errno: EINVAL };
    const l = field.layout!;
    while (isSpace(str[i])) i++;
    if (str[i] !== '=') return { ok: false, errno: EINVAL };
    i++;
    while (isSpace(str[i])) i++;
    const s = i;
    const c = str[i];
    if (isDigit(c) || c === '-') {
      if (field.stringKind) return { ok: false, errno: EINVAL };
      if (c === '-') i++;
      while (isAlnum(str[i])) i++;
      if (i < str.length && !isSpace(str[i])) return { ok: false, errno: EINVAL };
      const r = kstrtoxxErrno(str.slice(s, i), l.signed);
      if ('errno' in r) return { ok: false, errno: r.errno === 'ERANGE' ? ERANGE : EINVAL };
      const size = l.size;
      if (size !== 1 && size !== 2 && size !== 4 && size !== 8) return { ok: false, errno: EINVAL };
      const v = l.signed ? BigInt.asIntN(size * 8, r.value) : BigInt.asUintN(size * 8, r.value);
      if (field.source === 'common') {
        if (l.name === 'common_pid') common.pid = Number(v);
        else if (l.name === 'common_flags') common.flags = Number(v);
        else if (l.name === 'common_preempt_count') common.preemptCount = Number(v);
        // common_type is the event's own id: the kernel overwrites it too, but it cannot change the event.
      } else if (l.kind === 'array') {
        // An array as wide as an integer gets that integer's bytes (little-endian), element by element.
        const bytes = new Uint8Array(8);
        new DataView(bytes.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
        const dv = new DataView(bytes.buffer);
        const arr: (number | bigint)[] = [];
        for (let k = 0; k < l.count; k++) {
          const o = k * l.elemSize;
          if (l.elemSize === 8) arr.push(l.signed ? dv.getBigInt64(o, true) : dv.getBigUint64(o, true));
          else if (l.elemSize === 4) arr.push(l.signed ? dv.getInt32(o, true) : dv.getUint32(o, true));
          else if (l.elemSize === 2) arr.push(l.signed ? dv.getInt16(o, true) : dv.getUint16(o, true));
          else arr.push(l.signed ? dv.getInt8(o) : dv.getUint8(o));
        }
        values[l.name] = arr;
      } else if (l.kind === 'bool') values[l.name] = v !== 0n;
      else values[l.name] = size === 8 ? v : Number(v);
      p = i;
      continue;
    }
    if (c === "'" || c === '"') {
      if (!field.stringKind) return { ok: false, errno: EINVAL };
      for (i++; i < str.length; i++) {
        if (str[i] === '\\' && i + 1 < str.length) {
          i++;
          continue;
        }
        if (str[i] === c) break;
      }
      if (i >= str.length) return { ok: false, errno: EINVAL };
      const text = str.slice(s + 1, i);
      if (Buffer.byteLength(text, 'utf8') >= MAX_FILTER_STR_VAL) return { ok: false, errno: EINVAL };
      if (field.source === 'common') return { ok: false, errno: EINVAL };
      values[l.name] = field.stringKind === 'static' ? truncateUtf8(text, l.size - 1) : text;
      p = i + 1;
      continue;
    }
    return { ok: false, errno: EINVAL };
  }
  return { ok: true, inject: { values, common } };
}
