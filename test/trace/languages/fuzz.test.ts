/**
 * Fuzzing every language through the engine API: random and mutated inputs from a seeded PRNG (reproducible: the
 * seed and the failing input are in the assertion message). Checks: no exception escapes, every answer is 0 or one of
 * the kernel's errnos, compiled filters and triggers run on random values without throwing, each input is handled
 * within a coarse time bound, and the heap does not grow across rounds. A fast slice runs in the normal suite;
 * NTRACE_FUZZ=full (npm run fuzz) runs 1,000,000 inputs per language.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LANGUAGE_ERRNOS } from '../../../src/trace/languages/errno.js';
import { CollectingErrorLog, NULL_ERROR_LOG } from '../../../src/trace/languages/error-log.js';
import { readEventFilter, writeEventFilter } from '../../../src/trace/languages/filter/event-filter.js';
import { HistRegistry, readHistFile } from '../../../src/trace/languages/hist/hist-trigger.js';
import { parseInject } from '../../../src/trace/languages/inject/parse.js';
import { TriggerSet } from '../../../src/trace/languages/trigger/trigger-set.js';
import { allTypes, forkEvent, httpRequest } from './events.js';
import { Prng } from './prng.js';
import { FakeInstance } from './trigger-host.js';

const FULL = process.env.NTRACE_FUZZ === 'full';
const PER_LANGUAGE = FULL ? 1_000_000 : 5_000;
/** Coarse liveness bound for one input (a hang or quadratic blow-up, not a speed goal). */
const MAX_MS_PER_INPUT = 250;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const ALPHABET = [
  ...'abcdefghijklmnopqrstuvwxyz_ABCXYZ0123456789',
  ...' \t\n()!&|=<>~"\'*?[]\\-+:.,;{}$%^#@/',
  '&&',
  '||',
  '==',
  '!=',
  '<=',
  '>=',
  'if ',
  ' if ',
  '0x',
  '\0',
  'é',
  '\uD800',
  'hist:',
  'keys=',
  'vals=',
  'sort=',
  '.descending',
  '.hex',
  '.log2',
  '.buckets=',
  '.execname',
  'common_pid',
  'CPU',
  'COMM',
];

const FILTER_CORPUS = [
  'a_u8 == 1',
  'a_u16 != 0x10 && a_s32 < -5',
  '(a_u32 > 3 || a_s64 >= -9223372036854775808) && !(flag == 1)',
  'url ~ "/api/*" && name == \'x\'',
  'url ~ "[a-z]?*.js" || COMM ~ "node*"',
  'common_pid == 1 && CPU & 1',
  'bytes4 == 0x01020304 || words == 1',
  'a_u8 & 255 && a_u8 &',
  'url != "" || url ~ "!*x*"',
];
const TRIGGER_CORPUS = [
  'traceoff',
  'traceon:5 if a_u8 == 1',
  'stacktrace:2',
  'snapshot if url ~ "x*"',
  'enable_event:test:all_types:3',
  'disable_event:test:all_types if flag == 0',
  '!traceoff',
  '!enable_event:test:all_types',
  'hist:keys=a_u8:vals=a_u32',
  'disable_hist:test:all_types:2 if a_u8 == 1',
  '!enable_hist:test:all_types',
];
const HIST_CORPUS = [
  'hist:keys=parent_pid:vals=child_pid',
  'hist:keys=parent_pid,child_pid:sort=child_pid.descending,hitcount:size=256',
  'hist:keys=parent_comm:vals=hitcount,child_pid.hex if child_pid > 3',
  'hist:name=n1:keys=common_pid.execname',
  'hist:keys=parent_pid.log2:pause',
  'hist:keys=child_pid.buckets=10:clear',
  '!hist:keys=parent_pid:vals=child_pid',
  'hist:keys=common_cpu:sort=common_cpu:size=128',
];
const INJECT_CORPUS = [
  'a_u8=1 a_u16=0x20 a_s32=-5',
  'url="a \\"b\\"" name=\'xyz\'',
  'a_u64=18446744073709551615 a_s64=-9223372036854775808 flag=1',
  'common_pid=5 bytes4=0x01020304',
];

function mutate(rng: Prng, corpus: readonly string[]): string {
  if (rng.bool(0.1)) {
    let s = '';
    const n = rng.int(40);
    for (let i = 0; i < n; i++) s += rng.pick(ALPHABET);
    return s;
  }
  let s = rng.pick(corpus);
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    const i = rng.int(s.length + 1);
    switch (rng.int(6)) {
      case 0:
        s = s.slice(0, i) + rng.pick(ALPHABET) + s.slice(i);
        break;
      case 1:
        s = s.slice(0, i) + s.slice(i + 1 + rng.int(3));
        break;
      case 2: {
        const j = rng.int(s.length + 1);
        s = s.slice(0, i) + s.slice(Math.min(i, j), Math.max(i, j)) + s.slice(i);
        break;
      }
      case 3: {
        const o = rng.pick(corpus);
        s = s.slice(0, i) + o.slice(rng.int(o.length + 1));
        break;
      }
      case 4:
        s =
          s.slice(0, i) +
          rng.pick(['(', ')', '"', "'", '!', '&&', '||', ':', ' if ']).repeat(1 + rng.int(3)) +
          s.slice(i);
        break;
      default:
        if (rng.bool(0.05)) s = '('.repeat(rng.int(300)) + s + ')'.repeat(rng.int(300));
        else
          s =
            s.slice(0, i) +
            String(rng.pick([0, -1, 255, 65536, 2 ** 32, '18446744073709551616', '0x', '077', '09'])) +
            s.slice(i);
    }
  }
  return s;
}

function randomValues(rng: Prng): Record<string, unknown> {
  const pool: unknown[] = [
    0,
    1,
    -1,
    255,
    2 ** 31,
    2 ** 53,
    1.5,
    Number.NaN,
    7n,
    -(2n ** 63n),
    'x',
    '/api/x',
    '',
    null,
    undefined,
    {},
    [1, 2, 3, 4],
  ];
  const v: Record<string, unknown> = {};
  for (const f of allTypes.layout.fields) if (rng.bool(0.8)) v[f.name] = rng.pick(pool);
  return v;
}

function checkErrno(errno: number, seed: number, input: string) {
  assert.ok(errno === 0 || LANGUAGE_ERRNOS.has(errno), `seed ${seed}: errno ${errno} for ${JSON.stringify(input)}`);
}

/** Runs `n` inputs in two halves and checks the heap after the second half is not much above the first. */
function fuzz(name: string, seed: number, one: (rng: Prng, i: number) => void) {
  const rng = new Prng(seed);
  const half = PER_LANGUAGE / 2;
  const heap: number[] = [];
  let worst = 0;
  for (let h = 0; h < 2; h++) {
    for (let i = 0; i < half; i++) {
      const t0 = performance.now();
      one(rng, h * half + i);
      const dt = performance.now() - t0;
      if (dt > worst) worst = dt;
    }
    gc();
    heap.push(process.memoryUsage().heapUsed);
  }
  assert.ok(worst < MAX_MS_PER_INPUT, `${name}: slowest input took ${worst.toFixed(1)} ms`);
  assert.ok(heap[1] - heap[0] < 16 * 1024 * 1024, `${name}: heap grew by ${heap[1] - heap[0]} bytes`);
}

test(`fuzz filters (${PER_LANGUAGE} inputs)`, () => {
  const ctx = { pid: 1, cpu: 0, comm: 'fuzz' };
  const seed = 0xf1;
  let accepted = 0;
  fuzz('filter', seed, (rng) => {
    const input = mutate(rng, FILTER_CORPUS);
    const log = new CollectingErrorLog();
    const r = writeEventFilter(allTypes, input, log);
    checkErrno(r.errno, seed, input);
    assert.equal(typeof readEventFilter(r.state), 'string');
    if (r.state.filter) {
      accepted++;
      const v = randomValues(rng);
      const a = r.state.filter.matchValues(v, ctx);
      assert.equal(typeof a, 'boolean');
    } else if (r.errno !== 0)
      assert.ok(log.entries.length === 1, `seed ${seed}: one error_log entry for ${JSON.stringify(input)}`);
  });
  assert.ok(accepted > PER_LANGUAGE / 50, `accepted ${accepted}`);
});

test(`fuzz triggers (${PER_LANGUAGE} inputs)`, () => {
  const seed = 0xf2;
  const inst = new FakeInstance(['test:all_types', 'http:request']);
  const reg = new HistRegistry(2);
  let set = new TriggerSet(allTypes, reg.factory);
  const ctx = { pid: 1, cpu: 0, comm: 'fuzz' };
  fuzz('trigger', seed, (rng, i) => {
    if (i % 64 === 0) {
      set.clear(inst);
      set = new TriggerSet(allTypes, reg.factory);
    }
    const input = mutate(rng, TRIGGER_CORPUS);
    const errno = set.write(input, inst, NULL_ERROR_LOG);
    checkErrno(errno, seed, input);
    assert.equal(typeof set.read(), 'string');
    set.fire(randomValues(rng), ctx, inst);
  });
  set.clear(inst);
});

test(`fuzz hist triggers (${PER_LANGUAGE} inputs)`, () => {
  const seed = 0xf3;
  const inst = new FakeInstance(['sched:sched_process_fork']);
  const reg = new HistRegistry(1);
  let set = new TriggerSet(forkEvent, reg.factory);
  const ctx = { pid: 1, cpu: 0, comm: 'fuzz' };
  fuzz('hist', seed, (rng, i) => {
    if (i % 16 === 0) {
      set.clear(inst);
      set = new TriggerSet(forkEvent, reg.factory);
    }
    const input = mutate(rng, HIST_CORPUS);
    const errno = set.write(input, inst, NULL_ERROR_LOG);
    checkErrno(errno, seed, input);
    set.fire({ parent_pid: rng.int(10), child_pid: rng.int(1000), parent_comm: 'p' }, ctx, inst);
    if (i % 8 === 0) assert.equal(typeof readHistFile(set.histTriggers()), 'string');
  });
  set.clear(inst);
});

test(`fuzz inject (${PER_LANGUAGE} inputs)`, () => {
  const seed = 0xf4;
  fuzz('inject', seed, (rng) => {
    const input = mutate(rng, INJECT_CORPUS);
    const r = parseInject(rng.bool() ? allTypes : httpRequest, input);
    if (!r.ok) checkErrno(r.errno, seed, input);
  });
});
