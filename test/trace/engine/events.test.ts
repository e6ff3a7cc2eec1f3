import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DuplicateEventError, defineEvent } from '../../../src/index.js';
import {
  combinedFlag,
  cpusOf,
  createInstance,
  destroyInstance,
  findEvent,
  getEvent,
  isEventEnabled,
  listEvents,
  problemCounts,
  registryGeneration,
  setEventEnabled,
  TraceIterator,
} from '../../../src/trace/engine.js';
import { decodeRecord, drain } from './support.js';

test('names are validated and duplicates are a clear error', () => {
  assert.throws(() => defineEvent('bad-system', 'x', {}), TypeError);
  assert.throws(() => defineEvent('s', '1x', {}), TypeError);
  assert.throws(() => defineEvent('s', 'x'.repeat(65), {}), TypeError);
  assert.throws(() => defineEvent('s', 'x', { 'a b': 'u8' }), TypeError);
  assert.throws(() => defineEvent('s', 'x', { common_pid: 'u8' }), TypeError);
  assert.throws(() => defineEvent('s', 'x', { a: 'u128' as never }), TypeError);
  assert.throws(() => defineEvent('s', 'x', { a: 'u64[4096]' }), RangeError);
  assert.throws(() => defineEvent('s', 'x', {}, { print: 5 as never }), TypeError);
  const gen = registryGeneration();
  defineEvent('s', 'dup', { a: 'u8' });
  assert.notEqual(registryGeneration(), gen);
  assert.throws(
    () => defineEvent('s', 'dup', { a: 'u8' }),
    (e: unknown) => e instanceof DuplicateEventError && /s:dup/.test(e.message),
  );
});

test('a removed event stops recording, leaves the list, and its records still decode', (t) => {
  const inst = createInstance('removal');
  t.after(() => destroyInstance(inst));
  const ev = defineEvent('rm', 'gone', { n: 'u32', s: 'string' }, { print: 'n=%u s=%s' });
  setEventEnabled(inst, ev.id, true);
  for (let i = 0; i < 3; i++) ev.emit({ n: i, s: `r${i}` });
  assert.throws(() => ev.remove(), { code: 'EBUSY' }, 'an enabled event is busy (removal.test.ts has the rest)');
  setEventEnabled(inst, ev.id, false);
  ev.remove();
  assert.equal(ev.enabled, false);
  assert.equal(combinedFlag(ev.id), 0);
  assert.equal(isEventEnabled(inst, ev.id), false);
  assert.equal(setEventEnabled(inst, ev.id, true), false, 'a removed event cannot be enabled');
  ev.emit({ n: 99, s: 'late' });
  assert.equal(findEvent('rm', 'gone'), undefined);
  assert.ok(!listEvents().some((e) => e.id === ev.id));
  const recs = drain(new TraceIterator(inst));
  assert.deepEqual(
    recs.map((r) => decodeRecord(r)),
    [0, 1, 2].map((i) => ({ n: i, s: `r${i}` })),
  );
  assert.equal(recs[0].event?.print, 'n=%u s=%s');
  assert.equal(getEvent(ev.id)?.name, 'gone');
  const again = defineEvent('rm', 'gone', { n: 'u32' });
  assert.notEqual(again.id, ev.id, 'ids are never reused');
  assert.equal(drain(new TraceIterator(inst))[0].event?.fields.length, 2, 'old records keep the old definition');
});

test('a disabled emit writes nothing', () => {
  const ev = defineEvent('off', 'quiet', { n: 'u32' });
  assert.equal(ev.enabled, false);
  for (let i = 0; i < 1000; i++) ev.emit({ n: i });
  const inst = createInstance('quiet');
  try {
    assert.deepEqual(cpusOf(inst), [], 'no buffer was even allocated');
    setEventEnabled(inst, ev.id, true);
    setEventEnabled(inst, ev.id, false);
    ev.emit({ n: 1 });
    assert.deepEqual(drain(new TraceIterator(inst)), []);
  } finally {
    destroyInstance(inst);
  }
});

test('emit never throws on bad data; records are written as best they can be', (t) => {
  const inst = createInstance('bad');
  t.after(() => destroyInstance(inst));
  const ev = defineEvent('bad', 'data', {
    a: 'u8',
    b: 's32',
    c: 'u64',
    d: 'bool',
    e: 'string',
    f: 'char[4]',
    g: 'u16[2]',
    h: 's64[2]',
  });
  setEventEnabled(inst, ev.id, true);
  const before = problemCounts();
  const throwing = {
    get a(): number {
      throw new Error('getter');
    },
  };
  const evil = new Proxy(
    {},
    {
      get() {
        throw new Error('proxy');
      },
    },
  );
  const inputs: unknown[] = [
    null,
    undefined,
    42,
    'text',
    throwing,
    evil,
    { a: Symbol('x'), b: {}, c: Symbol('y'), e: Symbol('z') },
    { a: 300, b: 2 ** 40, c: -1, d: 'yes', e: 12, f: 'toolong', g: 'nope', h: [1n, 2n, 3n] },
    { a: 1.5, b: Number.NaN, c: 2n ** 70n, e: '\ud800 lone', f: 'é€', g: [1, 'x'], h: [Number.POSITIVE_INFINITY, -1] },
    {
      a: { valueOf: () => 1 },
      c: {
        valueOf() {
          throw new Error('valueOf');
        },
      },
      e: 'y'.repeat(100000),
    },
  ];
  for (const v of inputs) assert.doesNotThrow(() => ev.emit(v as never));
  const after = problemCounts();
  assert.ok(after.badValues > before.badValues, 'bad values counted');
  assert.ok(after.truncated > before.truncated, 'truncations counted');
  const recs = drain(new TraceIterator(inst));
  assert.equal(recs.length, inputs.length, 'every emit wrote a record');
  for (const r of recs) decodeRecord(r); // every record is well-formed
  const d = recs.map((r) => decodeRecord(r));
  assert.equal(d[7].a, 300 & 0xff);
  assert.equal(d[7].f, 'tool');
  assert.equal(d[7].c, 2n ** 64n - 1n);
  assert.deepEqual(d[7].h, [1n, 2n]);
  assert.equal(d[8].f, 'é€'.slice(0, 1), 'char[4] cut on a character boundary');
  assert.equal(d[8].c, 0n, '2^70 wraps to its low 64 bits');
  assert.equal(d[8].e, '\ufffd lone');
  assert.ok((d[9].e as string).length > 4000 && (d[9].e as string).length < 4096, 'long string truncated to a page');
});

test('emit works where code generation from strings is disallowed', () => {
  const out = execFileSync(
    process.execPath,
    ['--disallow-code-generation-from-strings', fileURLToPath(new URL('./fixtures/no-codegen.js', import.meta.url))],
    { encoding: 'utf8', timeout: 30000 },
  );
  assert.deepEqual(JSON.parse(out), { n: 7, s: 'héllo', big: `${2n ** 40n}n` });
});
