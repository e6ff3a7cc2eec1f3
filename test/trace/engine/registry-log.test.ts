/**
 * The registry as other threads see it: a thread's cache follows definitions and removals from any thread through
 * the shared log, and the registry wake-up rings for a new event, a removal and a thread's first record (a new CPU:
 * the filesystem thread adds per_cpu/cpuN at once).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { defineEvent } from '../../../src/index.js';
import { context } from '../../../src/trace/context.js';
import {
  armRegistryWakeup,
  cpuCount,
  createInstance,
  destroyInstance,
  engineDoorbell,
  getEvent,
  listEvents,
} from '../../../src/trace/engine.js';
import { RegistryView } from '../../../src/trace/registry.js';

function runWorker(file: string, workerData: unknown): Promise<Record<string, unknown>> {
  const w = new Worker(new URL(`./fixtures/${file}`, import.meta.url), { workerData });
  return new Promise((resolve, reject) => {
    w.once('message', (m) => {
      resolve(m as Record<string, unknown>);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

/** Waits (bounded) for the engine's doorbell to move past `seen`; true when it rang. */
async function rang(seen: number, ms = 10_000): Promise<boolean> {
  const { words, index } = engineDoorbell();
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 2)))
    if (Atomics.load(words, index) !== seen) return true;
  return Atomics.load(words, index) !== seen;
}

const names = (l: { system: string; name: string; id: number }[]) => l.map((e) => `${e.system}:${e.name}#${e.id}`);

test('a view kept across many definitions and removals, and one made after them, agree with the registry', () => {
  const { s } = context();
  const early = new RegistryView(s);
  early.sync();
  const evs = Array.from({ length: 60 }, (_, i) => defineEvent('rlog', `e${i}`, { v: 'u32' }));
  early.sync(); // sees the first 60 as they were
  const removedIds = evs.filter((_, i) => i % 3 === 0).map((e) => e.id);
  for (const [i, e] of evs.entries()) if (i % 3 === 0) e.remove();
  // A removed name defined again is a new event with a new id.
  const again = defineEvent('rlog', 'e0', { v: 'u64' });
  const late = new RegistryView(s);
  const expect = names(listEvents());
  assert.deepEqual(names(early.list()), expect);
  assert.deepEqual(names(late.list()), expect);
  for (const view of [early, late]) {
    assert.equal(view.find('rlog', 'e0'), again.id);
    assert.equal(view.find('rlog', 'e3'), undefined);
    assert.equal(view.find('rlog', 'e4'), evs[4].id);
    for (const id of removedIds)
      assert.equal(view.get(id)?.fields[0].type, 'u32', 'removed events keep their descriptor');
  }
  assert.equal(getEvent(again.id)?.fields[0].type, 'u64');
});

test('events defined and removed by another thread reach this thread’s cache', async () => {
  const before = listEvents().length;
  const r = await runWorker('registry-worker.js', { count: 40 });
  assert.equal(r.defined, 40);
  assert.equal(r.removed, 10);
  const mine = listEvents().filter((e) => e.system === 'rlogw');
  assert.equal(mine.length, 30);
  assert.equal(listEvents().length, before + 30);
  assert.deepEqual(
    mine.map((e) => e.name),
    Array.from({ length: 40 }, (_, i) => `w${i}`).filter((_, i) => i % 4 !== 0),
  );
});

test('the registry wake-up rings for a definition, a removal and a thread that starts emitting', async (t) => {
  const inst = createInstance('rlog-wake');
  t.after(() => destroyInstance(inst));
  const { words, index } = engineDoorbell();

  let seen = Atomics.load(words, index);
  armRegistryWakeup();
  const ev = defineEvent('rlogwake', 'x', {});
  assert.ok(await rang(seen), 'a definition rings');

  seen = Atomics.load(words, index);
  armRegistryWakeup();
  ev.remove();
  assert.ok(await rang(seen), 'a removal rings');

  // Nothing rings while nobody armed: the wake-up is one-shot.
  seen = Atomics.load(words, index);
  defineEvent('rlogwake', 'unheard', {});
  assert.equal(Atomics.load(words, index), seen);

  seen = Atomics.load(words, index);
  const cpus = cpuCount();
  armRegistryWakeup();
  const r = await runWorker('first-emit-worker.js', { instance: inst });
  assert.ok((r.accepted as number) > 0, 'the worker recorded');
  assert.equal(r.after, (r.before as number) + 1, 'the worker became a new CPU');
  assert.ok(cpuCount() > cpus);
  assert.ok(await rang(seen), 'a new CPU rings');
});
