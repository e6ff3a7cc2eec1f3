/**
 * An event with only unconditional triggers is recorded by the engine's own path after the triggers ran
 * (HOOK_RECORD): the record follows its filter, the state the triggers left (a traceon that fires lets its own
 * event in, as the kernel runs unconditional triggers before reserving the record), and the enable state.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setEventFilter, writeTrigger } from '../../../src/trace/control/index.js';
import {
  createInstance,
  destroyInstance,
  isTracingOn,
  setEventEnabled,
  setTracingOn,
} from '../../../src/trace/engine.js';
import { CollectingErrorLog } from '../../../src/trace/languages/error-sink.js';
import { defineStatusEvents, enableFile, recordsOf } from './support.js';

const [a, b] = defineStatusEvents('ctlrec', 'a', 'b');
const log = new CollectingErrorLog();

test('an enabled event with an unconditional trigger is recorded, through its filter', (t) => {
  const inst = createInstance('ctl-rec');
  t.after(() => destroyInstance(inst));
  setEventEnabled(inst, a.id, true);
  assert.equal(writeTrigger(inst, a.id, 'enable_event:ctlrec:b', log), 0);
  assert.equal(enableFile(inst, b.id), '0*\n');
  for (let n = 1; n <= 3; n++) a.emit({ status: 200, n });
  assert.deepEqual(
    recordsOf(inst, a.id).map((r) => r.n),
    [1, 2, 3],
  );
  assert.equal(enableFile(inst, b.id), '1*\n', 'the trigger fired');
  assert.equal(setEventFilter(inst, a.id, 'status == 500', log), 0);
  a.emit({ status: 200, n: 4 });
  a.emit({ status: 500, n: 5 });
  assert.deepEqual(
    recordsOf(inst, a.id).map((r) => r.n),
    [1, 2, 3, 5],
  );
  b.emit({ status: 1, n: 6 });
  assert.deepEqual(
    recordsOf(inst, b.id).map((r) => r.n),
    [6],
  );
});

test('a traceon that fires lets its own event in; with tracing off and no firing, nothing is recorded', (t) => {
  const inst = createInstance('ctl-rec-on');
  t.after(() => destroyInstance(inst));
  setEventEnabled(inst, a.id, true);
  assert.equal(writeTrigger(inst, a.id, 'traceon:1', log), 0);
  setTracingOn(inst, false);
  a.emit({ status: 1, n: 1 });
  assert.equal(isTracingOn(inst), true);
  assert.deepEqual(
    recordsOf(inst, a.id).map((r) => r.n),
    [1],
  );
  setTracingOn(inst, false);
  a.emit({ status: 1, n: 2 });
  assert.equal(isTracingOn(inst), false, 'count used up');
  assert.deepEqual(
    recordsOf(inst, a.id).map((r) => r.n),
    [1],
  );
});
