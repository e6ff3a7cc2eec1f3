import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineEvent } from '../../../src/index.js';
import {
  bufferTotals,
  ConsumingReader,
  clearBuffer,
  cpuStats,
  createInstance,
  destroyInstance,
  hasData,
  setEventEnabled,
  TraceIterator,
  writeMarker,
  writeMarkerRaw,
} from '../../../src/trace/engine.js';
import { decodeRecord, drain } from './support.js';

const ev = defineEvent('rd', 'rec', { n: 'u32' });
const ns = (recs: ReturnType<typeof drain>) => recs.map((r) => decodeRecord(r).n);

test('iterating does not consume; consuming removes records from both views', (t) => {
  const inst = createInstance('views');
  t.after(() => destroyInstance(inst));
  setEventEnabled(inst, ev.id, true);
  for (let i = 0; i < 10; i++) ev.emit({ n: i });
  assert.deepEqual(ns(drain(new TraceIterator(inst))), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(ns(drain(new TraceIterator(inst))), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'still there');
  assert.equal(hasData(inst), true);
  const c = new ConsumingReader(inst);
  assert.equal(c.hasData(), true);
  assert.deepEqual(
    [c.next(), c.next(), c.next()].map((r) => decodeRecord(r!).n),
    [0, 1, 2],
  );
  assert.deepEqual(ns(drain(new TraceIterator(inst))), [3, 4, 5, 6, 7, 8, 9]);
  // A second consumer continues where the first stopped (the position is shared, like trace_pipe's).
  assert.deepEqual(ns(drain(new ConsumingReader(inst))), [3, 4, 5, 6, 7, 8, 9]);
  assert.equal(c.next(), undefined);
  assert.equal(c.hasData(), false);
  assert.equal(hasData(inst), false);
  assert.deepEqual(bufferTotals(inst), { entries: 0, written: 0 });
  ev.emit({ n: 10 });
  assert.deepEqual(ns(drain(c)), [10], 'the consumer sees records written later');
});

test('an iterator shows what was there when it was created', (t) => {
  const inst = createInstance('snapshot');
  t.after(() => destroyInstance(inst));
  setEventEnabled(inst, ev.id, true);
  ev.emit({ n: 1 });
  ev.emit({ n: 2 });
  const it = new TraceIterator(inst);
  ev.emit({ n: 3 });
  assert.deepEqual(ns(drain(it)), [1, 2]);
  assert.deepEqual(ns(drain(new TraceIterator(inst))), [1, 2, 3]);
});

test('per-CPU readers, clear, stats and totals', (t) => {
  const inst = createInstance('percpu');
  t.after(() => destroyInstance(inst));
  setEventEnabled(inst, ev.id, true);
  for (let i = 0; i < 5; i++) ev.emit({ n: i });
  const cpu = new TraceIterator(inst).next()!.cpu;
  assert.deepEqual(ns(drain(new TraceIterator(inst, cpu))), [0, 1, 2, 3, 4]);
  assert.deepEqual(drain(new TraceIterator(inst, cpu + 1)), []);
  const st = cpuStats(inst, cpu);
  assert.equal(st.entries, 5);
  assert.ok(st.bytes > 0);
  assert.ok(st.oldestTs !== undefined && st.oldestTs <= st.nowTs);
  assert.deepEqual(bufferTotals(inst), { entries: 5, written: 5 });
  new ConsumingReader(inst, cpu).next();
  assert.equal(cpuStats(inst, cpu).read, 1);
  assert.equal(cpuStats(inst, cpu).entries, 4);
  clearBuffer(inst);
  assert.deepEqual(drain(new TraceIterator(inst)), []);
  const cleared = cpuStats(inst, cpu);
  assert.deepEqual([cleared.entries, cleared.read, cleared.overrun, cleared.bytes], [0, 0, 0, 0]);
  assert.equal(cleared.oldestTs, undefined);
  ev.emit({ n: 7 });
  assert.deepEqual(ns(drain(new TraceIterator(inst))), [7]);
});

test('trace_marker and trace_marker_raw records', (t) => {
  const inst = createInstance('markers');
  t.after(() => destroyInstance(inst));
  assert.equal(writeMarker(inst, 'hello'), 5);
  assert.equal(writeMarker(inst, 'with newline\n', 1234, 'echo'), 13);
  const long = 'z'.repeat(10000);
  const accepted = writeMarker(inst, long);
  assert.ok(accepted > 3000 && accepted < 4096, `short count ${accepted}`);
  assert.equal(writeMarkerRaw(inst, new Uint8Array([1, 0, 0, 0, 0xde, 0xad])), 6);
  assert.equal(writeMarkerRaw(inst, new Uint8Array([1, 2])), -1);
  const recs = drain(new TraceIterator(inst));
  assert.deepEqual(
    recs.map((r) => `${r.event?.system}:${r.event?.name}`),
    ['ftrace:print', 'ftrace:print', 'ftrace:print', 'ftrace:raw_data'],
  );
  assert.equal(recs[0].id, 5);
  assert.deepEqual(decodeRecord(recs[0]), { ip: 0n, buf: 'hello\n' });
  assert.equal(decodeRecord(recs[1]).buf, 'with newline\n');
  assert.equal(recs[1].pid, 1234);
  assert.equal(recs[1].comm, 'echo', 'the writing process’s name, not this thread’s');
  assert.equal(recs[0].comm, recs[3].comm);
  assert.equal((decodeRecord(recs[2]).buf as string).length, accepted + 1);
  const raw = recs[3];
  assert.equal(raw.id, 19);
  const loc = new DataView(raw.data.buffer, raw.data.byteOffset).getUint32(12, true);
  assert.equal(new DataView(raw.data.buffer, raw.data.byteOffset).getUint32(8, true), 1, 'id field');
  assert.deepEqual([...raw.data.subarray(loc & 0xffff, (loc & 0xffff) + (loc >>> 16))], [0xde, 0xad]);
});
