/**
 * Filter semantics on every field type, and agreement of the three evaluators: the compiled emit-time predicate (JS
 * values), the reference interpreter, and the record evaluator over bytes written by the engine's real encoder.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CollectingErrorLog } from '../../../src/trace/languages/error-sink.js';
import { evaluateOnValues } from '../../../src/trace/languages/filter/evaluate.js';
import {
  compileEventFilter,
  readSystemFilter,
  writeSystemFilter,
} from '../../../src/trace/languages/filter/event-filter.js';
import type { EventDescriptor } from '../../../src/trace/record.js';
import { encodeRecord } from './encode.js';
import { allTypes, httpRequest, httpResponse } from './events.js';
import { Prng } from './prng.js';

const ctx = { pid: 4242, cpu: 1, comm: 'node-main-thread-long-name' };

function compile(ev: EventDescriptor, text: string) {
  const r = compileEventFilter(ev, text, new CollectingErrorLog());
  if (!r.ok) assert.fail(`${text}: ${r.error.message}`);
  return r;
}

/** Checks one filter on one value set through all three evaluators and returns the answer. */
function check(ev: EventDescriptor, text: string, values: Record<string, unknown>, c = ctx): boolean {
  const r = compile(ev, text);
  const fast = r.filter.matchValues(values, c);
  const ref = evaluateOnValues(r.program, ev, values, c);
  const rec = r.filter.matchRecord(encodeRecord(ev, values, c));
  const recFast = r.filter.matchRecord(encodeRecord(ev, values, { ...c, fast: true }));
  assert.equal(fast, ref, `compiled vs reference: ${text} on ${show(values)}`);
  assert.equal(rec, ref, `record vs values: ${text} on ${show(values)}`);
  assert.equal(recFast, ref, `record (fast encoder) vs values: ${text} on ${show(values)}`);
  return fast;
}

function show(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));
}

test('numeric fields compare in their stored type (wrapping, signedness, 64-bit)', () => {
  assert.equal(check(allTypes, 'a_u8 == 44', { a_u8: 300 }), true);
  assert.equal(check(allTypes, 'a_u8 == 300', { a_u8: 44 }), true, 'the constant is cast to u8 too');
  assert.equal(check(allTypes, 'a_s8 < 0', { a_s8: 200 }), true);
  assert.equal(check(allTypes, 'a_u16 > 65000', { a_u16: -1 }), true);
  assert.equal(check(allTypes, 'a_s16 == -1', { a_s16: 65535 }), true);
  assert.equal(check(allTypes, 'a_u32 == 0xffffffff', { a_u32: -1 }), true);
  assert.equal(check(allTypes, 'a_s32 < -5', { a_s32: -6.9 }), true);
  assert.equal(check(allTypes, 'a_u64 > 9007199254740993', { a_u64: 2n ** 60n }), true);
  assert.equal(check(allTypes, 'a_u64 == 5', { a_u64: 5 }), true);
  assert.equal(check(allTypes, 'a_u64 > 5', { a_u64: -1 }), true, '-1 stored in a u64 is 2^64-1');
  assert.equal(check(allTypes, 'a_s64 == -9223372036854775808', { a_s64: 2n ** 63n }), true);
  assert.equal(check(allTypes, 'a_s64 & 0x100000000', { a_s64: 2 ** 32 }), true);
  assert.equal(check(allTypes, 'a_u32 & 6', { a_u32: 1 }), false);
  assert.equal(check(allTypes, 'a_u32 == 7', { a_u32: '7' }), true, 'strings go through Number() like the encoder');
  assert.equal(check(allTypes, 'a_u32 == 0', { a_u32: { valueOf: () => 7 } }), true, 'objects store 0');
  assert.equal(check(allTypes, 'a_u32 == 3', { a_u32: 3n }), true);
  assert.equal(check(allTypes, 'a_u64 == 0', { a_u64: '12' }), true);
  assert.equal(check(allTypes, 'flag == 1', { flag: 'yes' }), true);
  assert.equal(check(allTypes, 'flag == 0', {}), true);
  assert.equal(check(allTypes, 'bytes4 == 0x04030201', { bytes4: [1, 2, 3, 4] }), true, 'u8[4] compares as a u32');
  assert.equal(check(allTypes, 'words == 0', { words: [0, 0, 0] }), false, 'no comparison for 12-byte arrays');
});

test('string fields: ==, !=, ~ globs, char[N] truncation and the kernel quirks', () => {
  assert.equal(check(allTypes, 'url == "/api/x"', { url: '/api/x' }), true);
  assert.equal(check(allTypes, 'url != "/api/x"', { url: '/api/y' }), true);
  assert.equal(check(allTypes, 'url ~ "/api/*"', { url: '/api/users' }), true);
  assert.equal(check(allTypes, 'url ~ "*users"', { url: '/api/users' }), true);
  assert.equal(check(allTypes, 'url ~ "*pi/u*"', { url: '/api/users' }), true);
  assert.equal(check(allTypes, 'url ~ "/a?i/[tu]*s"', { url: '/api/users' }), true);
  assert.equal(check(allTypes, 'url ~ "/a?i/[!u]*"', { url: '/api/users' }), false);
  assert.equal(check(allTypes, 'url ~ "!/api/*"', { url: '/api/users' }), false, 'leading ! inverts a glob');
  assert.equal(check(allTypes, 'url ~ "/API/*"', { url: '/api/users' }), false, 'case-sensitive');
  assert.equal(check(allTypes, 'url == "ab"', { url: 'ab\0cd' }), true, 'C stops at NUL');
  assert.equal(check(allTypes, 'url ~ "*cd"', { url: 'ab\0cd' }), true, 'suffix match reads the stored bytes');
  assert.equal(check(allTypes, 'url == "héllo"', { url: 'héllo' }), true);
  assert.equal(check(allTypes, 'url ~ "h?llo"', { url: 'héllo' }), false, '? is one byte, é is two');
  assert.equal(check(allTypes, 'url ~ "h??llo"', { url: 'héllo' }), true);
  assert.equal(check(allTypes, 'url == ""', {}), true);
  assert.equal(check(allTypes, 'url == "12"', { url: 12 }), true);
  assert.equal(check(allTypes, 'name == "abcdefgh"', { name: 'abcdefghij' }), true, 'char[8] keeps 8 bytes');
  assert.equal(check(allTypes, 'name == "abcdefghXYZ"', { name: 'abcdefghij' }), true, 'strncmp over 8 bytes');
  assert.equal(
    check(allTypes, 'name ~ "*def"', { name: 'abcdef' }),
    false,
    'kernel: suffix on char[N] needs N-1 bytes',
  );
  assert.equal(check(allTypes, 'name ~ "*efg"', { name: 'abcdefg' }), true);
  assert.equal(check(allTypes, 'name ~ "ab*"', { name: 'abcdef' }), true);
  assert.equal(check(allTypes, 'name == "ab"', { name: 'abé' }), false);
  assert.equal(check(allTypes, 'name == "abcdefg"', { name: 'abcdefgé' }), true, 'é does not fit: cut before it');
});

test('pseudo and common fields: common_pid, CPU/cpu/common_cpu, COMM/comm, common_type', () => {
  assert.equal(check(allTypes, 'common_pid == 4242', {}), true);
  assert.equal(check(allTypes, 'CPU == 1 && cpu == 1 && common_cpu < 2', {}), true);
  assert.equal(check(allTypes, 'common_cpu & 1', {}), true);
  assert.equal(check(allTypes, 'COMM == "node-main-threa"', {}), true, 'comm is cut to 15 bytes like the kernel');
  assert.equal(check(allTypes, 'comm ~ "node*"', {}), true);
  assert.equal(check(allTypes, 'common_type == 900', {}), true);
  assert.equal(check(allTypes, 'common_flags == 0 && common_preempt_count == 0', {}), true);
});

test('boolean structure: precedence, negation, parentheses, trailing operators', () => {
  const v = { a_u8: 1, a_u16: 2, a_u32: 3 };
  assert.equal(check(allTypes, 'a_u8 == 1 || a_u16 == 9 && a_u32 == 9', v), true, '&& binds tighter');
  assert.equal(check(allTypes, '(a_u8 == 1 || a_u16 == 9) && a_u32 == 9', v), false);
  assert.equal(check(allTypes, '!(a_u8 == 1 && a_u16 == 2)', v), false);
  assert.equal(check(allTypes, '!(a_u8 == 2 || !a_u16 == 2)', v), true);
  assert.equal(check(allTypes, '!!a_u8 == 1', v), true);
  assert.equal(check(allTypes, 'a_u8 == 1 &&', v), true, 'the kernel accepts a trailing &&');
  assert.equal(check(allTypes, 'a_u8 == 7 ||', v), false);
});

test('random filters agree across the three evaluators (seeded)', () => {
  const rng = new Prng(0xf117e5);
  const numFields = ['a_u8', 'a_u16', 'a_u32', 'a_u64', 'a_s8', 'a_s16', 'a_s32', 'a_s64', 'flag', 'bytes4'];
  const strFields = ['url', 'name', 'COMM'];
  const consts = [
    '0',
    '1',
    '-1',
    '0x7f',
    '0xff',
    '255',
    '256',
    '65535',
    '-32768',
    '0x80000000',
    '4294967295',
    '9007199254740993',
    '-9223372036854775808',
    '18446744073709551615',
    '077',
  ];
  const patterns = ['', 'a', 'ab', 'abc*', '*bc', '*b*', 'a?c', '[a-c]*', '!a*', 'é*', '*', 'a\\*', '[!x]bc'];
  const pred = (): string => {
    if (rng.bool(0.6)) {
      const f = rng.pick(numFields);
      const op = rng.pick(['==', '!=', '<', '<=', '>', '>=', '&']);
      const k = rng.pick(consts);
      if (k.startsWith('-') && !/^a_s/.test(f)) return `${f} ${op} 1`;
      if ((k === '18446744073709551615' || k === '9007199254740993') && /^a_s/.test(f)) return `${f} ${op} 2`;
      return `${f} ${op} ${k}`;
    }
    return `${rng.pick(strFields)} ${rng.pick(['==', '!=', '~'])} "${rng.pick(patterns)}"`;
  };
  const expr = (d: number): string => {
    if (d <= 0 || rng.bool(0.4)) return (rng.bool(0.2) ? '!' : '') + pred();
    const l = expr(d - 1);
    const r = expr(d - 1);
    const e = `${l} ${rng.pick(['&&', '||'])} ${r}`;
    return rng.bool(0.4) ? `${rng.bool(0.3) ? '!' : ''}(${e})` : e;
  };
  const ints = [0, 1, -1, 127, 128, 255, 256, 65535, 65536, -32769, 2 ** 31, 2 ** 32 - 1, 2 ** 53, 1.5, Number.NaN];
  const strs = ['', 'a', 'ab', 'abc', 'xbc', 'abcdefghij', 'é', 'éabc', 'a*', 'ab\0c', 'a\\*'];
  const value = (): unknown => {
    const k = rng.int(10);
    if (k < 5) return rng.pick(ints);
    if (k < 7) return BigInt(rng.pick(ints.filter(Number.isInteger))) * BigInt(rng.pick([1, -1, 3]));
    if (k < 9) return rng.pick(strs);
    return rng.pick([undefined, null, true, false, {}, [1, 2]]);
  };
  let matched = 0;
  for (let i = 0; i < 600; i++) {
    const text = expr(3);
    const values: Record<string, unknown> = {};
    for (const f of [...numFields, 'url', 'name'])
      if (rng.bool(0.9)) values[f] = f === 'url' || f === 'name' ? rng.pick(strs) : value();
    const c = { pid: rng.pick([1, -1, 4242]), cpu: rng.int(4), comm: rng.pick(strs) };
    if (check(allTypes, text, values, c)) matched++;
  }
  // Both answers occur, so the comparison above is not vacuous.
  assert.ok(matched > 30 && matched < 570, `matched ${matched}`);
});

test('system filters apply to every event that has the fields; the others get an error and record everything', () => {
  const log = new CollectingErrorLog();
  const r = writeSystemFilter([httpRequest, httpResponse], 'url ~ "/api/*"', log);
  assert.equal(r.errno, 0);
  assert.equal(
    readSystemFilter(r.systemText),
    `${'### global filter ###'}\n# Use this to set filters for multiple events.\n# Only events with the given fields will be affected.\n# If no events are modified, an error message will be displayed here\n`,
  );
  const req = r.events.get(httpRequest)!;
  const resp = r.events.get(httpResponse)!;
  assert.equal(req.text, 'url ~ "/api/*"');
  assert.ok(req.filter?.matchValues({ url: '/api/1' }, ctx));
  assert.equal(req.filter?.matchValues({ url: '/x' }, ctx), false);
  assert.equal(resp.filter, undefined);
  assert.equal(
    resp.text,
    `url ~ "/api/*"\n^\nparse_error: Couldn't find or set field in one of a subsystem's events\n`,
  );
  assert.deepEqual(log.entries, [
    {
      location: 'event filter parse error',
      message: "Couldn't find or set field in one of a subsystem's events",
      command: 'url ~ "/api/*"',
      pos: 0,
    },
  ]);
  const cleared = writeSystemFilter([httpRequest, httpResponse], '0\n', log);
  assert.equal(cleared.events.get(httpRequest)!.text, undefined);
  assert.equal(cleared.events.get(httpResponse)!.text, undefined);
  assert.equal(writeSystemFilter([], 'x == 1', log).errno, 22);
});
