/** The inject language: field=value pairs into a values object, with the kernel's errnos. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseInject } from '../../../src/trace/languages/inject/parse.js';
import { encodeRecord } from './encode.js';
import { allTypes, httpRequest } from './events.js';

function ok(ev: typeof allTypes, s: string) {
  const r = parseInject(ev, s);
  if (!r.ok) assert.fail(`${s}: errno ${r.errno}`);
  return r.inject;
}

test('numbers in any base, wrapped to the field type; 64-bit as bigint', () => {
  const v = ok(
    allTypes,
    'a_u8=300 a_u16=0x10 a_u32=017 a_s8=-1 a_s16=-0x8000 a_u64=18446744073709551615 a_s64=-5 flag=1',
  ).values;
  assert.deepEqual(
    { ...v },
    { a_u8: 44, a_u16: 16, a_u32: 15, a_s8: -1, a_s16: -32768, a_u64: 18446744073709551615n, a_s64: -5n, flag: true },
  );
});

test('quoted strings keep backslashes; char[N] keeps N-1 bytes; later pairs win', () => {
  const v = ok(
    allTypes,
    ` url="a \\"quoted\\" path"  name='abcdefghij' url2_missing_ok`.replace(' url2_missing_ok', ''),
  );
  assert.equal(v.values.url, 'a \\"quoted\\" path');
  assert.equal(v.values.name, 'abcdefg');
  assert.equal(ok(httpRequest, 'status=1 status=2').values.status, 2);
  assert.equal(ok(httpRequest, 'method="GET"url="/x"').values.url, '/x');
  assert.deepEqual({ ...ok(httpRequest, '').values }, {});
});

test('common fields set the header', () => {
  const r = ok(httpRequest, 'common_pid=77 status=5');
  assert.equal(r.common.pid, 77);
});

test('errors: unknown field ENOENT, malformed EINVAL, overflow ERANGE', () => {
  const err = (s: string) => {
    const r = parseInject(allTypes, s);
    return r.ok ? 0 : r.errno;
  };
  assert.equal(err('nope=1'), 2);
  assert.equal(err('a_u8=abc'), 22);
  assert.equal(err('a_u8=1x'), 22);
  assert.equal(err('a_u8="1"'), 22);
  assert.equal(err('url=1'), 22);
  assert.equal(err('a_u8=-1'), 22, 'no minus for unsigned fields');
  assert.equal(err('a_u8 1'), 22);
  assert.equal(err('url="open'), 22);
  assert.equal(err(`url="${'x'.repeat(256)}"`), 22);
  assert.equal(err('=1'), 22);
  assert.equal(err('a_u64=18446744073709551616'), 34);
  assert.equal(err('a_s64=9223372036854775808'), 34);
  assert.equal(err('words=1'), 22, 'a 12-byte array has no integer form');
  assert.equal(err('CPU=1'), 22);
});

test('injected values encode like an emit of the same values', () => {
  const r = ok(allTypes, 'a_u32=7 url="/inj" bytes4=0x04030201');
  const rec = encodeRecord(allTypes, r.values, { pid: 1, cpu: 0, comm: 'x' });
  const dv = new DataView(rec.data.buffer, rec.data.byteOffset);
  const f = (n: string) => allTypes.layout.fields.find((x) => x.name === n)!;
  assert.equal(dv.getUint32(f('a_u32').offset, true), 7);
  assert.deepEqual([...rec.data.subarray(f('bytes4').offset, f('bytes4').offset + 4)], [1, 2, 3, 4]);
  const loc = dv.getUint32(f('url').offset, true);
  assert.equal(Buffer.from(rec.data.subarray(loc & 0xffff, (loc & 0xffff) + (loc >>> 16) - 1)).toString(), '/inj');
});
