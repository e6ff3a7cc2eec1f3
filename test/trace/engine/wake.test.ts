import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { defineEvent } from '../../../src/index.js';
import {
  allocateSharedWords,
  createInstance,
  destroyInstance,
  setEventEnabled,
  setWakeTarget,
} from '../../../src/trace/engine.js';

interface Msg {
  state: string;
  woke?: string;
  value?: Record<string, unknown>;
  changed?: boolean;
  comm?: string;
}

function start(workerData: unknown): { w: Worker; next: () => Promise<Msg> } {
  const w = new Worker(new URL('./fixtures/wake-worker.js', import.meta.url), { workerData });
  const queue: Msg[] = [];
  const waiting: Array<(m: Msg) => void> = [];
  w.on('message', (m: Msg) => {
    const f = waiting.shift();
    if (f) f(m);
    else queue.push(m);
  });
  const failed = new Promise<never>((_, reject) => w.once('error', reject));
  const next = () =>
    Promise.race([
      failed,
      new Promise<Msg>((resolve) => {
        const m = queue.shift();
        if (m) resolve(m);
        else waiting.push(resolve);
      }),
    ]);
  return { w, next };
}

/** Gives the worker time to reach Atomics.wait (so the blocked path is what runs; correctness does not depend on it). */
const settle = () => new Promise((r) => setTimeout(r, 50));

/** 'ok' = woken from the wait; 'not-equal' = the doorbell had rung before the wait began. Never a timeout. */
function assertRang(woke: string | undefined): void {
  assert.ok(woke === 'ok' || woke === 'not-equal', `woke: ${woke}`);
}

const ev = defineEvent('wake', 'ping', { n: 'u32', note: 'string' });

test('a consumer blocked in another thread is woken by an emit', async (t) => {
  const inst = createInstance('wake1');
  setEventEnabled(inst, ev.id, true);
  const { w, next } = start({ mode: 'data', instance: inst });
  t.after(async () => {
    await w.terminate();
    destroyInstance(inst);
  });
  assert.equal((await next()).state, 'waiting');
  await settle();
  ev.emit({ n: 7, note: 'hello' });
  const m = await next();
  assertRang(m.woke);
  assert.deepEqual(m.value, { n: 7, note: 'hello' });
  assert.equal(m.comm, process.title.slice(0, 15));
});

test('the wake target can be pointed at a caller-supplied shared word', async (t) => {
  const inst = createInstance('wake2');
  setEventEnabled(inst, ev.id, true);
  const words = allocateSharedWords(2);
  assert.ok(words);
  assert.equal(setWakeTarget(new Int32Array(4), 0), false, 'memory other threads cannot reach is refused');
  const { w, next } = start({ mode: 'data', instance: inst, target: words });
  t.after(async () => {
    await w.terminate();
    setWakeTarget(undefined);
    destroyInstance(inst);
  });
  assert.equal((await next()).state, 'waiting');
  await settle();
  const before = Atomics.load(words, 0);
  ev.emit({ n: 8, note: 'via target' });
  const m = await next();
  assertRang(m.woke);
  assert.deepEqual(m.value, { n: 8, note: 'via target' });
  assert.equal(Atomics.load(words, 0), before + 1);
});

test('a registry watcher in another thread is woken by a new event definition', async (t) => {
  const { w, next } = start({ mode: 'registry', instance: 0 });
  t.after(() => w.terminate());
  assert.equal((await next()).state, 'waiting');
  await settle();
  defineEvent('wake', 'late', { x: 'u8' });
  const m = await next();
  assertRang(m.woke);
  assert.equal(m.changed, true);
});
