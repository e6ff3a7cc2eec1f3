import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { setEnvironmentData, Worker } from 'node:worker_threads';
import { defineEvent } from '../../../src/index.js';
import {
  bufferSizeKb,
  bufferTotals,
  ConsumingReader,
  clearBuffer,
  clockName,
  cpuStats,
  createInstance,
  destroyInstance,
  findInstance,
  InstanceError,
  instanceClockInNs,
  instanceName,
  isTracingOn,
  listInstances,
  setBufferSizeKb,
  setClock,
  setEventEnabled,
  setTracingOn,
  sharedHandles,
  TOP_INSTANCE,
  TraceIterator,
  writeMarker,
} from '../../../src/trace/engine.js';
import { drain, recordedNs } from './support.js';

const ev = defineEvent('inst', 'rec', { n: 'u32' });

async function runWorker(workerData: unknown): Promise<Record<string, unknown>> {
  const w = new Worker(new URL('./fixtures/control-worker.js', import.meta.url), {
    workerData,
  });
  try {
    const [m] = await once(w, 'message');
    return m as Record<string, unknown>;
  } finally {
    await w.terminate();
  }
}

test('instances are isolated: one emit writes to every instance where the event is enabled', (t) => {
  const a = createInstance('a');
  const b = createInstance('b');
  t.after(() => {
    destroyInstance(a);
    destroyInstance(b);
  });
  setEventEnabled(a, ev.id, true);
  ev.emit({ n: 1 });
  setEventEnabled(b, ev.id, true);
  ev.emit({ n: 2 });
  setEventEnabled(a, ev.id, false);
  ev.emit({ n: 3 });
  setEventEnabled(b, ev.id, false);
  ev.emit({ n: 4 });
  assert.deepEqual(recordedNs(a), [1, 2]);
  assert.deepEqual(recordedNs(b), [2, 3]);
  assert.deepEqual(recordedNs(TOP_INSTANCE), []);
  clearBuffer(a);
  assert.deepEqual(recordedNs(a), []);
  assert.deepEqual(recordedNs(b), [2, 3]);
});

test('tracing_on gates recording per instance', (t) => {
  const a = createInstance('gated');
  t.after(() => destroyInstance(a));
  setEventEnabled(a, ev.id, true);
  assert.equal(isTracingOn(a), true);
  setTracingOn(a, false);
  assert.equal(ev.enabled, true, 'still enabled: tracing_on only stops recording');
  ev.emit({ n: 1 });
  setTracingOn(a, true);
  ev.emit({ n: 2 });
  assert.deepEqual(recordedNs(a), [2]);
});

test('create, list, find and destroy; errors carry errno codes', () => {
  const a = createInstance('x1');
  assert.equal(findInstance('x1'), a);
  assert.ok(listInstances().some((i) => i.name === 'x1' && i.index === a));
  assert.throws(
    () => createInstance('x1'),
    (e: unknown) => e instanceof InstanceError && e.code === 'EEXIST',
  );
  assert.throws(
    () => createInstance('a/b'),
    (e: unknown) => e instanceof InstanceError && e.code === 'EINVAL',
  );
  assert.throws(
    () => destroyInstance(TOP_INSTANCE),
    (e: unknown) => e instanceof InstanceError,
  );
  setEventEnabled(a, ev.id, true);
  destroyInstance(a);
  assert.equal(findInstance('x1'), undefined);
  assert.throws(
    () => destroyInstance(a),
    (e: unknown) => e instanceof InstanceError && e.code === 'ENOENT',
  );
  assert.equal(ev.enabled, false, 'destroying the instance disabled its events');
  ev.emit({ n: 1 }); // nothing to write to, and no error
});

test('an instance created by another thread receives this thread’s records', async (t) => {
  const m = await runWorker({ cmd: 'create-and-enable', name: 'from-worker', system: 'inst', event: 'rec' });
  const inst = m.inst as number;
  t.after(() => destroyInstance(inst));
  assert.equal(m.enabled, true);
  assert.equal(findInstance('from-worker'), inst);
  ev.emit({ n: 42 });
  assert.deepEqual(recordedNs(inst), [42]);
  const listed = await runWorker({ cmd: 'list' });
  assert.ok((listed.events as string[]).includes('inst:rec'));
  assert.ok((listed.instances as string[]).includes('from-worker'));
});

test('each instance has its own clock and buffer size', (t) => {
  const a = createInstance('clocked');
  t.after(() => destroyInstance(a));
  setEventEnabled(a, ev.id, true);
  setEventEnabled(TOP_INSTANCE, ev.id, true);
  t.after(() => setEventEnabled(TOP_INSTANCE, ev.id, false));
  assert.equal(clockName(a), 'local');
  assert.equal(setClock(a, 'nonsense'), false);
  assert.ok(setClock(a, 'counter'));
  assert.equal(instanceClockInNs(a), false);
  clearBuffer(TOP_INSTANCE);
  ev.emit({ n: 1 });
  ev.emit({ n: 2 });
  const counted = drain(new TraceIterator(a)).map((r) => r.ts);
  const local = drain(new TraceIterator(TOP_INSTANCE)).map((r) => r.ts);
  assert.equal(counted[1] - counted[0], 1n, 'counter clock ticks once per record');
  assert.ok(local[0] > 1_000_000n, 'the top instance still uses ns');
  setBufferSizeKb(a, 64);
  assert.equal(bufferSizeKb(a), 64);
  ev.emit({ n: 3 });
  assert.deepEqual(recordedNs(a), [3], 'resizing replaced the buffer');
  for (const c of ['local', 'global', 'uptime', 'mono', 'mono_raw', 'boot']) assert.ok(setClock(a, c), c);
});

test('a thread that did not inherit the shared state attaches with the handles', async () => {
  const key = 'ntrace.shared-state.v2';
  // Simulate a worker created before ntrace was imported: hide the published state from it.
  setEnvironmentData(key, undefined as never);
  try {
    const isolated = await runWorker({ cmd: 'list' });
    assert.ok(!(isolated.events as string[]).includes('inst:rec'), 'without the handles it sees another state');
    const attached = await runWorker({ cmd: 'list', handles: sharedHandles() });
    assert.ok((attached.events as string[]).includes('inst:rec'));
  } finally {
    setEnvironmentData(key, sharedHandles() as never);
  }
  const again = await runWorker({ cmd: 'list' });
  assert.ok((again.events as string[]).includes('inst:rec'));
});

test('bad instance and CPU numbers never throw', () => {
  for (const i of [-1, 64, 1e9, 1.5, Number.NaN]) {
    assert.deepEqual(drain(new TraceIterator(i)), []);
    assert.equal(new ConsumingReader(i).hasData(), false);
    new ConsumingReader(i).armWakeup();
    assert.equal(instanceName(i), '');
    assert.equal(isTracingOn(i), false);
    assert.deepEqual(bufferTotals(i), { entries: 0, written: 0 });
    assert.equal(cpuStats(i, 0).entries, 0);
    assert.equal(setEventEnabled(i, ev.id, true), false);
    assert.equal(writeMarker(i, 'x'), 0);
    clearBuffer(i);
  }
  for (const c of [-1, 5000, 0.5]) assert.equal(cpuStats(TOP_INSTANCE, c).entries, 0);
});
