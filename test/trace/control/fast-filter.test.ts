/**
 * A filter-only (instance, event) is applied by the engine's generated emit path itself (FastFilter, installed by
 * the control hook). These tests drive it hot (tens of thousands of emits, so the optimized code is the one
 * running, in the main thread and a worker) across every change that must take it out of play or replace it: a new
 * filter, a trigger added and removed, tracing_on, `0`, a second instance with its own filter, and soft-disable.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setEventFilter, writeEnable, writeTrigger } from '../../../src/trace/control/index.js';
import {
  createInstance,
  destroyInstance,
  isTracingOn,
  setEventEnabled,
  setTracingOn,
} from '../../../src/trace/engine.js';
import { CollectingErrorLog } from '../../../src/trace/languages/error-sink.js';
import { Agent, defineStatusEvents, enableFile, recordsOf, STATUS_FIELDS } from './support.js';

const [req, src] = defineStatusEvents('ctlfast', 'req', 'src');
const log = new CollectingErrorLog();
const HOT = 30000;

function spin(status: number): void {
  for (let i = 0; i < HOT; i++) req.emit({ status, n: i });
}

const statuses = (inst: number) => recordsOf(inst, req.id).map((r) => r.status);

test('the emit path applies a filter-only state itself, and follows every change of it', async (t) => {
  const inst = createInstance('ctl-fast');
  const inst2 = createInstance('ctl-fast2');
  const app = await Agent.start('app');
  t.after(async () => {
    await app.stop();
    destroyInstance(inst);
    destroyInstance(inst2);
  });
  assert.equal(await app.define('ctlfast', 'req', STATUS_FIELDS), req.id);
  setEventEnabled(inst, req.id, true);
  assert.equal(setEventFilter(inst, req.id, 'status >= 500', log), 0);
  spin(200);
  await app.emit('ctlfast', 'req', [{ status: 200, n: 0 }], HOT);
  req.emit({ status: 501, n: 0 });
  await app.emit('ctlfast', 'req', [{ status: 502, n: 0 }]);
  assert.deepEqual(statuses(inst), [501, 502]);

  // A new filter: the old one (which 600 passes) must not be used any more, in this thread or the worker.
  assert.equal(setEventFilter(inst, req.id, 'status < 300', log), 0);
  spin(600);
  await app.emit('ctlfast', 'req', [{ status: 600, n: 0 }], HOT);
  req.emit({ status: 201, n: 0 });
  assert.deepEqual(statuses(inst), [501, 502, 201]);

  // A trigger next to the filter: the hook takes over (the trigger fires), the filter still applies.
  assert.equal(writeTrigger(inst, req.id, 'traceoff if status == 999', log), 0);
  spin(600);
  req.emit({ status: 202, n: 0 });
  req.emit({ status: 999, n: 0 });
  assert.equal(isTracingOn(inst), false);
  assert.deepEqual(statuses(inst), [501, 502, 201, 202]);
  setTracingOn(inst, true);
  assert.equal(writeTrigger(inst, req.id, '!traceoff', log), 0);
  spin(999);
  assert.equal(isTracingOn(inst), true, 'the removed trigger no longer fires');

  // tracing_on still decides after a passing filter.
  setTracingOn(inst, false);
  req.emit({ status: 203, n: 0 });
  setTracingOn(inst, true);
  req.emit({ status: 204, n: 0 });
  assert.deepEqual(statuses(inst), [501, 502, 201, 202, 204]);

  // A second instance with its own filter on the same event.
  setEventEnabled(inst2, req.id, true);
  assert.equal(setEventFilter(inst2, req.id, 'status == 600', log), 0);
  spin(300);
  req.emit({ status: 600, n: 0 });
  req.emit({ status: 205, n: 0 });
  assert.deepEqual(statuses(inst2), [600]);
  assert.deepEqual(statuses(inst), [501, 502, 201, 202, 204, 205]);

  // `0` removes the filter: everything is recorded.
  assert.equal(setEventFilter(inst, req.id, '0', log), 0);
  req.emit({ status: 700, n: 0 });
  await app.emit('ctlfast', 'req', [{ status: 701, n: 0 }]);
  assert.deepEqual(statuses(inst).slice(-2), [700, 701]);
});

test('a soft-disabled event with a filter records nothing, even when the filter passes', (t) => {
  const inst = createInstance('ctl-fast-soft');
  t.after(() => destroyInstance(inst));
  setEventEnabled(inst, req.id, true);
  assert.equal(setEventFilter(inst, req.id, 'status >= 500', log), 0);
  spin(200);
  req.emit({ status: 500, n: 1 });
  assert.equal(writeTrigger(inst, src.id, 'enable_event:ctlfast:req', log), 0);
  assert.equal(enableFile(inst, req.id), '1*\n');
  assert.equal(writeEnable(inst, req.id, false), 0);
  assert.equal(enableFile(inst, req.id), '0*\n');
  spin(500);
  assert.deepEqual(statuses(inst), [500]);
  // The trigger switches it back on: the (still hot) filter applies again.
  src.emit({ status: 1, n: 0 });
  assert.equal(enableFile(inst, req.id), '1*\n');
  req.emit({ status: 200, n: 2 });
  req.emit({ status: 502, n: 3 });
  assert.deepEqual(statuses(inst), [500, 502]);
});
