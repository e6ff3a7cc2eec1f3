import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { defineEvent } from '../../../src/index.js';
import {
  isSnapshotAllocated,
  readTrigger,
  snapshotText,
  writeSnapshot,
  writeTrigger,
} from '../../../src/trace/control/index.js';
import { isTracingOn, setEventEnabled } from '../../../src/trace/engine.js';
import { CollectingErrorLog } from '../../../src/trace/languages/error-sink.js';
import { TextFileReader } from '../../../src/trace/text/file-text.js';
import { instanceWithAgent, recordsOf } from './support.js';

const fields = { n: 'u32' } as const;
const ev = defineEvent('ctls', 'tick', fields);
const text = (inst: number) => Buffer.from(new TextFileReader(() => snapshotText(inst)).read(0, 1 << 26)).toString();
const ns = (s: string) => [...s.matchAll(/tick: n=(\d+)/g)].map((m) => Number(m[1]));

/** An instance recording ctls:tick, with an agent worker that has defined it too. */
async function tickingInstance(t: TestContext, name: string) {
  const r = await instanceWithAgent(t, name);
  await r.app.define('ctls', 'tick', fields);
  setEventEnabled(r.inst, ev.id, true);
  return r;
}

test('snapshot: 1 allocates and swaps, 2 clears, 0 frees', async (t) => {
  const { inst, app } = await tickingInstance(t, 'ctl-snap');
  assert.equal(isSnapshotAllocated(inst), false);
  assert.match(text(inst), /^# tracer: nop\n#\n#\n# \* Snapshot is freed \*\n#\n# Snapshot commands:\n/);
  ev.emit({ n: 1 });
  await app.emit('ctls', 'tick', [{ n: 2 }]);
  assert.equal(writeSnapshot(inst, 1n), 0);
  assert.equal(isSnapshotAllocated(inst), true);
  const snap = text(inst);
  assert.match(snap, /^# tracer: nop\n#\n# entries-in-buffer\/entries-written: 2\/2 {3}#P:/);
  assert.deepEqual(ns(snap), [1, 2]);
  assert.equal(recordsOf(inst, ev.id).length, 0, 'the live buffer starts empty');
  // Both threads now write into their new live rings.
  ev.emit({ n: 3 });
  await app.emit('ctls', 'tick', [{ n: 4 }]);
  assert.deepEqual(
    recordsOf(inst, ev.id).map((r) => r.n),
    [3, 4],
  );
  assert.deepEqual(ns(text(inst)), [1, 2]);
  assert.equal(writeSnapshot(inst, 1n), 0);
  assert.deepEqual(ns(text(inst)), [3, 4]);
  assert.equal(writeSnapshot(inst, 2n), 0);
  assert.equal(isSnapshotAllocated(inst), true);
  assert.match(text(inst), /# \* Snapshot is allocated \*/);
  assert.deepEqual(ns(text(inst)), []);
  assert.equal(writeSnapshot(inst, 0n), 0);
  assert.equal(isSnapshotAllocated(inst), false);
  assert.match(text(inst), /# \* Snapshot is freed \*/);
});

test('the snapshot trigger swaps from the emitting thread; without a buffer it stops tracing', async (t) => {
  const { inst, app } = await tickingInstance(t, 'ctl-snaptrig');
  const log = new CollectingErrorLog();
  assert.equal(isSnapshotAllocated(inst), false);
  assert.equal(writeTrigger(inst, ev.id, 'snapshot:1 if n == 3', log), 0);
  assert.equal(isSnapshotAllocated(inst), true, 'setting the trigger allocates the buffer, as the kernel');
  await app.emit('ctls', 'tick', [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
  assert.deepEqual(ns(text(inst)), [1, 2, 3]);
  assert.deepEqual(
    recordsOf(inst, ev.id).map((r) => r.n),
    [4],
  );
  assert.equal(readTrigger(inst, ev.id), 'snapshot:count=0 if n == 3\n');

  assert.equal(writeTrigger(inst, ev.id, '!snapshot', log), 0);
  assert.equal(writeTrigger(inst, ev.id, 'snapshot', log), 0);
  assert.equal(writeSnapshot(inst, 0n), 0);
  ev.emit({ n: 9 });
  assert.deepEqual(
    recordsOf(inst, 5).map((r) => r.buf),
    ['*** SNAPSHOT NOT ALLOCATED ***\n', '*** stopping trace here!   ***\n'],
  );
  assert.equal(isTracingOn(inst), false);
});
