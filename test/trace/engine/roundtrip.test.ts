import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { defineEvent } from '../../../src/index.js';
import {
  ConsumingReader,
  clearBuffer,
  setBufferSizeKb,
  setEventEnabled,
  TOP_INSTANCE,
  TraceIterator,
} from '../../../src/trace/engine.js';
import type { FieldType } from '../../../src/trace/layout.js';
import { kernelEventsPath } from '../../support/paths.js';
import { rng } from '../../support/random.js';
import { decodeRecord, drain, randomValue } from './support.js';

test('every field type round-trips through the ring', () => {
  const fields = {
    a_u8: 'u8',
    a_u16: 'u16',
    a_u32: 'u32',
    a_u64: 'u64',
    a_s8: 's8',
    a_s16: 's16',
    a_s32: 's32',
    a_s64: 's64',
    a_bool: 'bool',
    a_str: 'string',
    a_chars: 'char[16]',
    a_u8s: 'u8[3]',
    a_u16s: 'u16[3]',
    a_u32s: 'u32[2]',
    a_u64s: 'u64[2]',
    a_s8s: 's8[2]',
    a_s16s: 's16[2]',
    a_s32s: 's32[2]',
    a_s64s: 's64[2]',
    b_str: 'string',
  } as const;
  const ev = defineEvent('rt', 'all_types', fields);
  assert.ok(setEventEnabled(TOP_INSTANCE, ev.id, true));
  const cases = [
    {
      a_u8: 255,
      a_u16: 65535,
      a_u32: 4294967295,
      a_u64: 18446744073709551615n,
      a_s8: -128,
      a_s16: -32768,
      a_s32: -2147483648,
      a_s64: -9223372036854775808n,
      a_bool: true,
      a_str: 'GET /index.html',
      a_chars: 'exactly16chars!!',
      a_u8s: [0, 128, 255],
      a_u16s: [1, 2, 65535],
      a_u32s: [0, 4294967295],
      a_u64s: [2n ** 63n, 1n],
      a_s8s: [-1, 127],
      a_s16s: [-2, 32767],
      a_s32s: [-3, 2147483647],
      a_s64s: [-4n, 9223372036854775807n],
      b_str: '',
    },
    {
      a_u8: 0,
      a_u16: 0,
      a_u32: 0,
      a_u64: 2 ** 53 - 1,
      a_s8: 127,
      a_s16: 32767,
      a_s32: 2147483647,
      a_s64: -(2 ** 53 - 1),
      a_bool: false,
      a_str: 'héllo wörld 日本 😀',
      a_chars: 'ünï',
      a_u8s: [1, 2, 3],
      a_u16s: [4, 5, 6],
      a_u32s: [7, 8],
      a_u64s: [9, 2 ** 40],
      a_s8s: [0, 0],
      a_s16s: [0, 0],
      a_s32s: [0, 0],
      a_s64s: [-1, 1],
      b_str: 'x'.repeat(300),
    },
    {
      ...{ a_u8: 1, a_u16: 2, a_u32: 3, a_u64: 4n, a_s8: 5, a_s16: 6, a_s32: 7, a_s64: 8n, a_bool: true },
      a_str: `${'long ascii '.repeat(20)}then é and 日本 and 😀 ${'ü'.repeat(200)}`,
      a_chars: '',
      a_u8s: [0, 0, 0],
      a_u16s: [0, 0, 0],
      a_u32s: [0, 0],
      a_u64s: [0n, 0n],
      a_s8s: [0, 0],
      a_s16s: [0, 0],
      a_s32s: [0, 0],
      a_s64s: [0n, 0n],
      b_str: 'y'.repeat(97),
    },
  ];
  for (const c of cases) ev.emit(c);
  const got = drain(new ConsumingReader(TOP_INSTANCE)).filter((r) => r.id === ev.id);
  assert.equal(got.length, cases.length);
  const as64 = (type: string, x: unknown): unknown => {
    if (type.startsWith('u64') || type.startsWith('s64'))
      return Array.isArray(x) ? x.map((v) => BigInt(v)) : BigInt(x as number | bigint);
    return x;
  };
  got.forEach((r, k) => {
    const d = decodeRecord(r);
    for (const [name, type] of Object.entries(fields))
      assert.deepEqual(d[name], as64(type, cases[k][name as keyof (typeof cases)[0]]), name);
    assert.equal(r.pid, process.pid);
    assert.equal(r.event?.name, 'all_types');
    assert.equal(r.data[0] | (r.data[1] << 8), ev.id, 'common_type');
  });
  setEventEnabled(TOP_INSTANCE, ev.id, false);
});

test('every kernel event definition round-trips random values', () => {
  const data = JSON.parse(readFileSync(kernelEventsPath, 'utf8')) as {
    systems: Array<{ name: string; events: Array<{ name: string; fields: Array<{ name: string; type: FieldType }> }> }>;
  };
  setBufferSizeKb(TOP_INSTANCE, 8192);
  const r = rng(42);
  let checked = 0;
  for (const sys of data.systems) {
    const expected: Array<{ id: number; expect: Record<string, unknown> }> = [];
    for (const e of sys.events) {
      const fields: Record<string, FieldType> = {};
      for (const f of e.fields) fields[f.name] = f.type;
      const ev = defineEvent(`k_${sys.name}`, e.name, fields);
      setEventEnabled(TOP_INSTANCE, ev.id, true);
      const values: Record<string, unknown> = {};
      const expect: Record<string, unknown> = {};
      for (const f of e.fields) {
        const v = randomValue(f.type, r);
        values[f.name] = v.value;
        expect[f.name] = v.expect;
      }
      ev.emit(values as never);
      expected.push({ id: ev.id, expect });
      setEventEnabled(TOP_INSTANCE, ev.id, false);
    }
    const got = drain(new ConsumingReader(TOP_INSTANCE));
    assert.equal(got.length, expected.length, sys.name);
    got.forEach((rec, k) => {
      assert.equal(rec.id, expected[k].id);
      assert.deepEqual(decodeRecord(rec), expected[k].expect, `${sys.name}:${rec.event?.name}`);
      checked++;
    });
  }
  assert.ok(checked > 2000, `checked ${checked}`);
  clearBuffer(TOP_INSTANCE);
  assert.equal(drain(new TraceIterator(TOP_INSTANCE)).length, 0);
});
