import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readTrigger, writeEnable, writeTrigger } from '../../../src/trace/control/index.js';
import {
  createInstance,
  destroyInstance,
  FTRACE_KERNEL_STACK_ID,
  FTRACE_PRINT_ID,
  isTracingOn,
  setEventEnabled,
  setTracingOn,
  TOP_INSTANCE,
} from '../../../src/trace/engine.js';
import { CollectingErrorLog } from '../../../src/trace/languages/error-sink.js';
import { Agent, defineStatusEvents, enableFile, instanceWithAgent, recordsOf, STATUS_FIELDS } from './support.js';

const [a, b] = defineStatusEvents('ctlt', 'a', 'b');
const log = new CollectingErrorLog();

test('a traceoff trigger fired in a worker stops tracing in that instance only', async (t) => {
  const { inst, app } = await instanceWithAgent(t, 'ctl-off');
  await app.define('ctlt', 'a', STATUS_FIELDS);
  await app.define('ctlt', 'b', STATUS_FIELDS);
  setEventEnabled(inst, a.id, true);
  setEventEnabled(inst, b.id, true);
  assert.equal(writeTrigger(inst, a.id, 'traceoff if status == 500', log), 0);
  await app.emit('ctlt', 'a', [{ status: 200, n: 1 }]);
  assert.equal(isTracingOn(inst), true);
  await app.emit('ctlt', 'a', [{ status: 500, n: 2 }]);
  assert.equal(isTracingOn(inst), false);
  assert.equal(isTracingOn(TOP_INSTANCE), true);
  // A conditional trigger runs after the record: the event that stopped tracing is in the buffer.
  assert.deepEqual(
    recordsOf(inst, a.id).map((r) => r.n),
    [1, 2],
  );
  await app.emit('ctlt', 'b', [{ status: 1, n: 3 }]);
  assert.equal(recordsOf(inst, b.id).length, 0);
  assert.equal(readTrigger(inst, a.id), 'traceoff:unlimited if status == 500\n');
});

test('an unconditional traceoff keeps its own event out; traceon fires while tracing is off', async (t) => {
  const inst = createInstance('ctl-onoff');
  t.after(() => destroyInstance(inst));
  setEventEnabled(inst, a.id, true);
  setEventEnabled(inst, b.id, true);
  assert.equal(writeTrigger(inst, a.id, 'traceoff', log), 0);
  assert.equal(writeTrigger(inst, b.id, 'traceon:1', log), 0);
  a.emit({ status: 1, n: 1 });
  assert.equal(isTracingOn(inst), false);
  assert.equal(recordsOf(inst, a.id).length, 0);
  b.emit({ status: 1, n: 2 });
  assert.equal(isTracingOn(inst), true);
  assert.equal(readTrigger(inst, b.id), 'traceon:count=0\n');
  setTracingOn(inst, false);
  b.emit({ status: 1, n: 3 });
  assert.equal(isTracingOn(inst), false, 'count used up');
});

test('enable_event / disable_event: soft mode 0* and 1*, recording follows the trigger', async (t) => {
  const inst = createInstance('ctl-soft');
  t.after(() => destroyInstance(inst));
  setEventEnabled(inst, a.id, true);
  assert.equal(writeTrigger(inst, a.id, 'enable_event:ctlt:b:1 if status == 7', log), 0);
  assert.equal(enableFile(inst, b.id), '0*\n');
  b.emit({ status: 0, n: 1 });
  assert.equal(recordsOf(inst, b.id).length, 0, 'soft disabled: not recorded');
  a.emit({ status: 6, n: 0 });
  assert.equal(enableFile(inst, b.id), '0*\n');
  a.emit({ status: 7, n: 0 });
  assert.equal(enableFile(inst, b.id), '1*\n');
  b.emit({ status: 0, n: 2 });
  assert.deepEqual(
    recordsOf(inst, b.id).map((r) => r.n),
    [2],
  );
  assert.equal(readTrigger(inst, a.id), 'enable_event:ctlt:b:count=0 if status == 7\n');
  // Removing the trigger leaves a target it switched on enabled, as the kernel does.
  assert.equal(writeTrigger(inst, a.id, '!enable_event:ctlt:b', log), 0);
  assert.equal(enableFile(inst, b.id), '1\n');
  // disable_event on an enabled event: soft mode, still recording until it fires.
  assert.equal(writeTrigger(inst, a.id, 'disable_event:ctlt:b', log), 0);
  assert.equal(enableFile(inst, b.id), '1*\n');
  a.emit({ status: 0, n: 0 });
  assert.equal(enableFile(inst, b.id), '0*\n');
  b.emit({ status: 0, n: 3 });
  assert.equal(recordsOf(inst, b.id).length, 1);
  // Writing 1 to `enable` clears the soft-disable; writing 0 keeps the event live for the trigger (0*).
  assert.equal(writeEnable(inst, b.id, true), 0);
  assert.equal(enableFile(inst, b.id), '1*\n');
  assert.equal(writeEnable(inst, b.id, false), 0);
  assert.equal(enableFile(inst, b.id), '0*\n');
  assert.equal(writeTrigger(inst, a.id, '!disable_event:ctlt:b', log), 0);
  assert.equal(enableFile(inst, b.id), '0\n');
  assert.equal(b.enabled, false);
});

test(':N counts are used up exactly once per firing across two emitting threads; stacktrace lines', async (t) => {
  const inst = createInstance('ctl-count');
  const w1 = await Agent.start('w1');
  const w2 = await Agent.start('w2');
  t.after(async () => {
    await w1.stop();
    await w2.stop();
    destroyInstance(inst);
  });
  for (const w of [w1, w2]) await w.define('ctlt', 'a', STATUS_FIELDS);
  assert.equal(writeTrigger(inst, a.id, 'stacktrace:25', log), 0);
  assert.equal(enableFile(inst, a.id), '0*\n');
  await Promise.all([
    w1.emit('ctlt', 'a', [{ status: 1, n: 1 }], 200),
    w2.emit('ctlt', 'a', [{ status: 1, n: 2 }], 200),
  ]);
  // The kernel's way: an ftrace:kernel_stack record per firing (not a trace_marker record).
  assert.equal(recordsOf(inst, FTRACE_PRINT_ID).length, 0, 'no trace_marker records');
  const stacks = recordsOf(inst, FTRACE_KERNEL_STACK_ID);
  assert.equal(stacks.length, 25);
  for (const r of stacks) {
    const frames = String(r.caller).split('\n');
    assert.equal(Number(r.size), frames.length, 'size counts the frames stored');
    assert.ok(frames.length > 0);
    for (const f of frames) assert.match(f, /^\S/);
    assert.ok(!String(r.caller).includes('/src/trace/'), 'ntrace frames removed');
    assert.match(String(r.caller), /fixtures\/agent\.js/, 'the application frame is there');
  }
  assert.equal(readTrigger(inst, a.id), 'stacktrace:count=0\n');
  assert.equal(recordsOf(inst, a.id).length, 0, 'soft disabled event not recorded');
});
