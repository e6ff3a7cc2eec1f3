/**
 * TriggerSet.clear() removes every trigger (the kernel's clear_event_triggers walks the whole list, dropping each
 * trigger's soft-mode reference), while truncate() — O_TRUNC of `trigger` — removes hist triggers only, as the
 * kernel's hist_unreg_all is the only unreg_all command.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CollectingErrorLog } from '../../../src/trace/languages/error-sink.js';
import { AVAILABLE_TRIGGERS_TEXT, TriggerSet } from '../../../src/trace/languages/trigger/trigger-set.js';
import { httpRequest } from './events.js';
import { FakeInstance } from './trigger-host.js';

const REQ = 'http:request';
const RESP = 'http:response';

test('clear() removes every trigger and releases every soft mode it held', () => {
  const inst = new FakeInstance([REQ, RESP, 'sched:other']);
  const set = new TriggerSet(httpRequest);
  const log = new CollectingErrorLog();
  assert.equal(set.write('traceoff', inst, log), 0);
  assert.equal(set.write('enable_event:http:response', inst, log), 0);
  assert.equal(set.write('stacktrace:3 if status == 500', inst, log), 0);
  assert.equal(set.size, 3);
  assert.equal(inst.enableFile(REQ), '0*');
  assert.equal(inst.enableFile(RESP), '0*');
  set.clear(inst);
  assert.equal(set.size, 0);
  assert.equal(set.read(), AVAILABLE_TRIGGERS_TEXT);
  assert.equal(inst.enableFile(REQ), '0', 'the triggering event leaves soft mode');
  assert.equal(inst.enableFile(RESP), '0', 'the enable_event target leaves soft mode');
  // Nothing is left to fire.
  inst.emit(REQ, set, { status: 500 }, { pid: 1, cpu: 0, comm: 'app' });
  assert.equal(inst.tracingOn, true);
  assert.deepEqual(inst.stacks, []);
});

test('clear() removes two enable_event triggers of different targets', () => {
  const inst = new FakeInstance([REQ, RESP, 'sched:other']);
  const set = new TriggerSet(httpRequest);
  const log = new CollectingErrorLog();
  assert.equal(set.write('enable_event:http:response', inst, log), 0);
  assert.equal(set.write('disable_event:sched:other', inst, log), 0);
  set.clear(inst);
  assert.equal(set.size, 0);
  assert.equal(inst.enableFile(RESP), '0');
  assert.equal(inst.enableFile('sched:other'), '0');
  assert.equal(inst.enableFile(REQ), '0');
});

test('truncate() leaves non-hist triggers alone (O_TRUNC removes hist triggers only)', () => {
  const inst = new FakeInstance([REQ, RESP, 'sched:other']);
  const set = new TriggerSet(httpRequest);
  const log = new CollectingErrorLog();
  assert.equal(set.write('traceoff', inst, log), 0);
  assert.equal(set.write('enable_event:http:response', inst, log), 0);
  set.truncate(inst);
  assert.equal(set.read(), 'enable_event:http:response:unlimited\ntraceoff:unlimited\n');
  assert.equal(inst.enableFile(REQ), '0*');
});
