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
import { CollectingErrorLog, NULL_ERROR_LOG } from '../../../src/trace/languages/error-sink.js';
import { readEventFilter, writeEventFilter } from '../../../src/trace/languages/filter/event-filter.js';
import { HistRegistry, readHistFile } from '../../../src/trace/languages/hist/hist-trigger.js';
import { parseInject } from '../../../src/trace/languages/inject/parse.js';
import { TriggerSet } from '../../../src/trace/languages/trigger/trigger-set.js';
import { allTypes, forkEvent, httpRequest } from './events.js';
import { FILTER_CORPUS, HIST_CORPUS, INJECT_CORPUS, mutate, TRIGGER_CORPUS } from './fuzz-inputs.js';
import { Prng } from './prng.js';
import { FakeInstance } from './trigger-host.js';

const FULL = process.env.NTRACE_FUZZ === 'full';
const PER_LANGUAGE = FULL ? 1_000_000 : 5_000;
/** Coarse liveness bound for one input (a hang or quadratic blow-up, not a speed goal). */
const MAX_MS_PER_INPUT = 250;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

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

/**
 * Runs the inputs in two halves and checks the heap after the second half is not much above the first. `one` handles
 * input i and returns a function that handles the same input again in a fresh environment: an input over the time
 * bound is retried that way, and only an input slow three times in a row fails (a GC pause or a busy machine is not
 * a hang).
 */
function fuzz(name: string, seed: number, one: (rng: Prng, i: number) => { input: string; again: () => void }) {
  const rng = new Prng(seed);
  const half = PER_LANGUAGE / 2;
  const heap: number[] = [];
  const timed = (f: () => unknown) => {
    const t0 = performance.now();
    f();
    return performance.now() - t0;
  };
  for (let h = 0; h < 2; h++) {
    for (let i = 0; i < half; i++) {
      let again: () => void = () => {};
      let input = '';
      const dt = timed(() => {
        ({ input, again } = one(rng, h * half + i));
      });
      if (dt < MAX_MS_PER_INPUT) continue;
      const retries = [timed(again), timed(again), timed(again)];
      assert.ok(
        Math.min(...retries) < MAX_MS_PER_INPUT,
        `${name}, seed ${seed}: ${JSON.stringify(input)} took ${dt.toFixed(1)} ms, then ${retries.map((x) => x.toFixed(1))}`,
      );
    }
    gc();
    heap.push(process.memoryUsage().heapUsed);
  }
  assert.ok(heap[1] - heap[0] < 16 * 1024 * 1024, `${name}: heap grew by ${heap[1] - heap[0]} bytes`);
}

test(`fuzz filters (${PER_LANGUAGE} inputs)`, () => {
  const ctx = { pid: 1, cpu: 0, comm: 'fuzz' };
  const seed = 0xf1;
  let accepted = 0;
  fuzz('filter', seed, (rng) => {
    const input = mutate(rng, FILTER_CORPUS);
    const again = () => writeEventFilter(allTypes, input, NULL_ERROR_LOG).state.filter?.matchValues({}, ctx);
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
    return { input, again };
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
    inst.fire(set, randomValues(rng), ctx);
    const again = () => {
      const fresh = new TriggerSet(allTypes, reg.factory);
      fresh.write(input, inst, NULL_ERROR_LOG);
      inst.fire(fresh, {}, ctx);
      fresh.clear(inst);
    };
    return { input, again };
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
    inst.fire(set, { parent_pid: rng.int(10), child_pid: rng.int(1000), parent_comm: 'p' }, ctx);
    if (i % 8 === 0) assert.equal(typeof readHistFile(set.histTriggers()), 'string');
    const again = () => {
      const fresh = new TriggerSet(forkEvent, reg.factory);
      fresh.write(input, inst, NULL_ERROR_LOG);
      readHistFile(fresh.histTriggers());
      fresh.clear(inst);
    };
    return { input, again };
  });
  set.clear(inst);
});

test(`fuzz inject (${PER_LANGUAGE} inputs)`, () => {
  const seed = 0xf4;
  fuzz('inject', seed, (rng) => {
    const input = mutate(rng, INJECT_CORPUS);
    const ev = rng.bool() ? allTypes : httpRequest;
    const r = parseInject(ev, input);
    if (!r.ok) checkErrno(r.errno, seed, input);
    return { input, again: () => parseInject(ev, input) };
  });
});
