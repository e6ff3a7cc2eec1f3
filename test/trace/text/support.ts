/** Test helpers: build event descriptors and encode records from values, per layout.ts, without the engine. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeLayout, type FieldSpec, type FieldType } from '../../../src/trace/layout.js';
import type { EventDescriptor, TraceRecord } from '../../../src/trace/record.js';
import { repoRoot } from '../../support/paths.js';

export const fixturesDir = join(repoRoot, 'test', 'trace', 'text', 'fixtures');

export function fixture(name: string): string {
  return readFileSync(join(fixturesDir, name), 'utf8');
}

export function makeEvent(
  id: number,
  system: string,
  name: string,
  fields: Record<string, FieldType | string>,
  print?: string,
): EventDescriptor {
  const specs: FieldSpec[] = Object.entries(fields).map(([n, type]) => ({ name: n, type: type as FieldType }));
  return { id, system, name, fields: specs, layout: computeLayout(specs), ...(print === undefined ? {} : { print }) };
}

/** One field of every scalar type plus a string, in this order: tests add their char and array fields after these. */
export const SCALAR_FIELDS = {
  a: 'u8',
  b: 'u16',
  c: 'u32',
  d: 'u64',
  e: 's8',
  g: 's16',
  h: 's32',
  i: 's64',
  j: 'bool',
  k: 'string',
} as const;

/** The kernel's sched_switch fields, in ntrace types (pid_t, int and long as s32, s32 and s64). */
export const SCHED_SWITCH_FIELDS = {
  prev_comm: 'char[16]',
  prev_pid: 's32',
  prev_prio: 's32',
  prev_state: 's64',
  next_comm: 'char[16]',
  next_pid: 's32',
  next_prio: 's32',
} as const;

export type Value = number | bigint | boolean | string | readonly (number | bigint)[];

export interface CommonValues {
  flags?: number;
  preemptCount?: number;
  pid?: number;
}

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function writeInt(v: DataView, off: number, size: number, value: number | bigint): void {
  const b = BigInt.asUintN(size * 8, BigInt(value));
  if (size === 8) v.setBigUint64(off, b, LE);
  else if (size === 4) v.setUint32(off, Number(b), LE);
  else if (size === 2) v.setUint16(off, Number(b), LE);
  else v.setUint8(off, Number(b));
}

/** Encodes one record: common fields, fixed fields at their offsets, strings after the fixed part (NUL included). */
export function encodeRecord(
  event: EventDescriptor,
  values: Record<string, Value>,
  common: CommonValues = {},
): Uint8Array {
  const layout = event.layout;
  const enc = new TextEncoder();
  const strings: { off: number; bytes: Uint8Array }[] = [];
  let size = layout.fixedSize;
  for (const f of layout.fields) {
    if (f.kind === 'string') {
      const bytes = enc.encode(String(values[f.name] ?? ''));
      strings.push({ off: size, bytes });
      size += bytes.length + 1;
    }
  }
  const data = new Uint8Array(size);
  const v = new DataView(data.buffer);
  writeInt(v, 0, 2, event.id);
  writeInt(v, 2, 1, common.flags ?? 0);
  writeInt(v, 3, 1, common.preemptCount ?? 0);
  writeInt(v, 4, 4, common.pid ?? 0);
  let si = 0;
  for (const f of layout.fields) {
    const val = values[f.name];
    switch (f.kind) {
      case 'string': {
        const s = strings[si++];
        data.set(s.bytes, s.off);
        writeInt(v, f.offset, 4, ((s.bytes.length + 1) << 16) | s.off);
        break;
      }
      case 'chars':
        data.set(enc.encode(String(val ?? '')).subarray(0, f.count), f.offset);
        break;
      case 'array': {
        const arr = (val ?? []) as readonly (number | bigint)[];
        for (let i = 0; i < f.count && i < arr.length; i++) writeInt(v, f.offset + i * f.elemSize, f.elemSize, arr[i]);
        break;
      }
      case 'bool':
        writeInt(v, f.offset, 1, val ? 1 : 0);
        break;
      default:
        writeInt(v, f.offset, f.elemSize, (val ?? 0) as number | bigint);
    }
  }
  return data;
}

export function makeRecord(
  event: EventDescriptor | undefined,
  data: Uint8Array,
  ctx: { cpu?: number; ts?: bigint; comm?: string; pid?: number; id?: number } = {},
): TraceRecord {
  return {
    cpu: ctx.cpu ?? 0,
    ts: ctx.ts ?? 0n,
    id: ctx.id ?? event?.id ?? 0,
    event,
    data,
    comm: ctx.comm ?? 'node',
    pid: ctx.pid ?? 1,
  };
}
