import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { defineEvent } from '../../../src/index.js';
import {
  ConsumingReader,
  cpuName,
  cpuStats,
  cpusOf,
  createInstance,
  destroyInstance,
  setBufferSizeKb,
  setEventEnabled,
  TOP_INSTANCE,
  TraceIterator,
} from '../../../src/trace/engine.js';
import { decodeRecord, drain } from './support.js';

const ev = defineEvent('wk', 'tick', { worker: 'u32', seq: 'u32', label: 'string' });

function once(w: Worker, msg: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: unknown) => {
      if (m === msg) {
        w.off('message', onMsg);
        resolve();
      }
    };
    w.on('message', onMsg);
    w.once('error', reject);
  });
}

test('4 emitting worker threads: nothing lost, per-thread order kept, merged by timestamp', async (t) => {
  setBufferSizeKb(TOP_INSTANCE, 4096);
  assert.ok(setEventEnabled(TOP_INSTANCE, ev.id, true));
  const count = 20000;
  const start = new Int32Array(new SharedArrayBuffer(4));
  const workers = [0, 1, 2, 3].map(
    (worker) =>
      new Worker(new URL('./fixtures/emitter-worker.js', import.meta.url), {
        workerData: { name: `emitter-${worker}`, worker, count, start },
      }),
  );
  t.after(() => Promise.all(workers.map((w) => w.terminate())));
  await Promise.all(workers.map((w) => once(w, 'ready')));
  const done = Promise.all(workers.map((w) => once(w, 'done')));
  Atomics.store(start, 0, 1);
  Atomics.notify(start, 0);
  // Read concurrently with the writers: iterators must only ever see well-formed records.
  let finished = false;
  void done.then(() => {
    finished = true;
  });
  while (!finished) {
    for (const r of drain(new TraceIterator(TOP_INSTANCE))) assert.equal(r.id, ev.id);
    await new Promise((r) => setImmediate(r));
  }
  await done;

  const all = drain(new TraceIterator(TOP_INSTANCE));
  assert.equal(all.length, 4 * count);
  const next = [0, 0, 0, 0];
  const cpus = new Map<number, number>();
  let lastTs = -1n;
  for (const r of all) {
    const d = decodeRecord(r);
    const w = d.worker as number;
    assert.equal(d.seq, next[w], `worker ${w} order`);
    next[w]++;
    assert.equal(d.label, `emitter-${w}`);
    assert.equal(r.comm, `emitter-${w}`);
    if (cpus.has(w)) assert.equal(cpus.get(w), r.cpu);
    else cpus.set(w, r.cpu);
    assert.ok(r.ts >= lastTs, 'merged by timestamp');
    lastTs = r.ts;
  }
  assert.deepEqual(next, [count, count, count, count]);
  assert.equal(new Set(cpus.values()).size, 4);
  for (const [w, cpu] of cpus) {
    assert.equal(cpuName(cpu), `emitter-${w}`);
    const st = cpuStats(TOP_INSTANCE, cpu);
    assert.equal(st.entries, count);
    assert.equal(st.overrun, 0);
  }
  // The consuming reader sees the same records, then nothing.
  const consumer = new ConsumingReader(TOP_INSTANCE);
  assert.equal(drain(consumer).length, 4 * count);
  assert.equal(consumer.hasData(), false);
  assert.equal(drain(new TraceIterator(TOP_INSTANCE)).length, 0);
});

test('a consumer racing overwriting writers: each record at most once, in order, and every record accounted for', async (t) => {
  const inst = createInstance('race');
  setBufferSizeKb(inst, 8); // 2 pages a thread: constant overwriting
  assert.ok(setEventEnabled(inst, ev.id, true));
  const count = 50000;
  const start = new Int32Array(new SharedArrayBuffer(4));
  const workers = [0, 1].map(
    (worker) =>
      new Worker(new URL('./fixtures/emitter-worker.js', import.meta.url), {
        workerData: { name: `racer-${worker}`, worker, count, start },
      }),
  );
  t.after(async () => {
    await Promise.all(workers.map((w) => w.terminate()));
    destroyInstance(inst);
  });
  await Promise.all(workers.map((w) => once(w, 'ready')));
  let finished = false;
  const done = Promise.all(workers.map((w) => once(w, 'done'))).then(() => {
    finished = true;
  });
  Atomics.store(start, 0, 1);
  Atomics.notify(start, 0);
  const consumer = new ConsumingReader(inst);
  const last = new Map<number, number>();
  let consumed = 0;
  const take = () => {
    for (let r = consumer.next(); r !== undefined; r = consumer.next()) {
      const d = decodeRecord(r);
      const w = d.worker as number;
      const prev = last.get(w) ?? -1;
      assert.ok((d.seq as number) > prev, `worker ${w}: ${d.seq} after ${prev}`);
      last.set(w, d.seq as number);
      consumed++;
    }
  };
  while (!finished) {
    take();
    await new Promise((r) => setImmediate(r));
  }
  await done;
  const cpus = cpusOf(inst);
  assert.equal(cpus.length, 2);
  let overrun = 0;
  let entries = 0;
  let read = 0;
  for (const cpu of cpus) {
    const st = cpuStats(inst, cpu);
    overrun += st.overrun;
    entries += st.entries;
    read += st.read;
  }
  assert.equal(read, consumed);
  assert.equal(consumed + overrun + entries, 2 * count, 'consumed + overrun + in buffer = written');
  take();
  for (const [, seq] of last) assert.equal(seq, count - 1, 'the newest records are never lost');
});
