/**
 * Triggers: the kernel selftests trigger-traceonoff, trigger-eventonoff, trigger-filter, trigger-stacktrace and
 * trigger-snapshot re-targeted to synthetic events (without the filesystem), plus the parsing/read-back/errno rules
 * observed on a real 6.18 kernel.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CollectingErrorLog } from '../../../src/trace/languages/error-sink.js';
import { AVAILABLE_TRIGGERS_TEXT, TriggerSet } from '../../../src/trace/languages/trigger/trigger-set.js';
import { httpRequest } from './events.js';
import { FakeInstance } from './trigger-host.js';

const ctx = { pid: 100, cpu: 0, comm: 'app' };
const REQ = 'http:request';
const RESP = 'http:response';

function setup() {
  const inst = new FakeInstance([REQ, RESP, 'sched:other']);
  const set = new TriggerSet(httpRequest);
  const log = new CollectingErrorLog();
  const w = (s: string) => set.write(s, inst, log);
  return { inst, set, log, w };
}

test('available triggers header and empty read-back', () => {
  const { set } = setup();
  assert.equal(
    set.read(),
    '# Available triggers:\n# traceon traceoff snapshot stacktrace enable_event disable_event enable_hist disable_hist hist\n',
  );
  assert.equal(set.read(), AVAILABLE_TRIGGERS_TEXT);
});

test('trigger-traceonoff: traceoff stops tracing, traceon restarts it; the event goes soft (0*)', () => {
  const { inst, set, w } = setup();
  assert.equal(w('traceoff'), 0);
  assert.equal(inst.enableFile(REQ), '0*', 'an event with triggers is soft-enabled');
  assert.equal(set.read(), 'traceoff:unlimited\n');
  inst.emit(REQ, set, {}, ctx);
  assert.equal(inst.tracingOn, false);
  assert.equal(w('!traceoff'), 0);
  assert.equal(inst.enableFile(REQ), '0');
  assert.equal(w('traceon'), 0);
  inst.emit(REQ, set, {}, ctx);
  assert.equal(inst.tracingOn, true);
  assert.equal(w('!traceon'), 0);
  assert.equal(set.read(), AVAILABLE_TRIGGERS_TEXT);
});

test('an unconditional traceoff keeps its own event out of the buffer; a filtered one records it', () => {
  const { inst, set, w } = setup();
  inst.setEnable(REQ, true);
  w('traceoff');
  inst.emit(REQ, set, {}, ctx);
  assert.deepEqual(inst.recorded, []);
  w('!traceoff');
  inst.tracingOn = true;
  w('traceoff if status == 500');
  inst.emit(REQ, set, { status: 500 }, ctx);
  assert.deepEqual(inst.recorded, [REQ]);
  assert.equal(inst.tracingOn, false);
});

test('counts: only state changes use them up; count=0 never fires; read-back shows what is left', () => {
  const { inst, set, w } = setup();
  assert.equal(w('traceoff:2'), 0);
  assert.equal(set.read(), 'traceoff:count=2\n');
  inst.emit(REQ, set, {}, ctx);
  assert.equal(inst.tracingOn, false);
  inst.emit(REQ, set, {}, ctx);
  assert.equal(set.read(), 'traceoff:count=1\n', 'tracing already off: no decrement');
  inst.tracingOn = true;
  inst.emit(REQ, set, {}, ctx);
  assert.equal(set.read(), 'traceoff:count=0\n');
  inst.tracingOn = true;
  inst.emit(REQ, set, {}, ctx);
  assert.equal(inst.tracingOn, true);
});

test('trigger-eventonoff: enable_event/disable_event soft-enable their target; removal keeps a fired state', () => {
  const { inst, set, w } = setup();
  assert.equal(w('enable_event:http:response'), 0);
  assert.equal(inst.enableFile(RESP), '0*');
  inst.emit(REQ, set, {}, ctx);
  assert.equal(inst.enableFile(RESP), '1*');
  inst.emit(RESP, undefined, {}, ctx);
  assert.deepEqual(inst.recorded, [RESP]);
  assert.equal(w('!enable_event:http:response'), 0);
  assert.equal(inst.enableFile(RESP), '1', 'the kernel leaves a fired target enabled');
  inst.setEnable(RESP, false);
  assert.equal(inst.enableFile(RESP), '0');

  inst.setEnable(RESP, true);
  assert.equal(w('disable_event:http:response:1'), 0);
  assert.equal(inst.enableFile(RESP), '1*');
  inst.emit(REQ, set, {}, ctx);
  assert.equal(inst.enableFile(RESP), '0*');
  assert.equal(set.read(), 'disable_event:http:response:count=0\n');
  assert.equal(w('!disable_event:http:response'), 0);
  assert.equal(inst.enableFile(RESP), '0', 'soft-disabled at removal: the kernel disables it');
  assert.equal(inst.enableFile(REQ), '0');
});

test('trigger-filter: triggers fire only when their filter matches', () => {
  const { inst, set, w } = setup();
  assert.equal(w('traceoff if status >= 500 && url ~ "/api/*"'), 0);
  assert.equal(set.read(), 'traceoff:unlimited if status >= 500 && url ~ "/api/*"\n');
  inst.emit(REQ, set, { status: 200, url: '/api/x' }, ctx);
  inst.emit(REQ, set, { status: 503, url: '/static' }, ctx);
  assert.equal(inst.tracingOn, true);
  inst.emit(REQ, set, { status: 503, url: '/api/x' }, ctx);
  assert.equal(inst.tracingOn, false);
});

test('trigger-stacktrace: the JS stack of the emitting code is captured', () => {
  const { inst, set, w } = setup();
  assert.equal(w('stacktrace:1'), 0);
  function handleRequestForTest() {
    inst.emit(REQ, set, {}, ctx);
  }
  handleRequestForTest();
  handleRequestForTest();
  assert.equal(inst.stacks.length, 1);
  assert.match(inst.stacks[0], /^ => /);
  assert.match(inst.stacks[0], /handleRequestForTest/);
  assert.doesNotMatch(inst.stacks[0], /trigger-set/);
  assert.equal(set.read(), 'stacktrace:count=0\n');
});

test('trigger-snapshot: snapshot fires every time, or N times', () => {
  const { inst, set, w } = setup();
  assert.equal(w('snapshot:2 if status == 1'), 0);
  for (let i = 0; i < 5; i++) inst.emit(REQ, set, { status: 1 }, ctx);
  inst.emit(REQ, set, { status: 2 }, ctx);
  assert.equal(inst.snapshots, 2);
});

test('parsing, EEXIST and removal as the kernel answers them', () => {
  const { set, w, log } = setup();
  assert.equal(w('traceoff'), 0);
  assert.equal(w('traceoff'), 17);
  assert.equal(w('traceon:3 if status == 1'), 17, 'traceon and traceoff share a type');
  assert.equal(w('stacktrace:unlimited'), 22);
  assert.equal(w('!traceon'), 0, 'removes traceoff: same type');
  assert.equal(w('!traceon'), 0, 'removing nothing succeeds');
  assert.equal(w('bogus'), 22);
  assert.equal(w('!bogus'), 22);
  assert.equal(w('!'), 22);
  assert.equal(w(''), 0, 'a zero-length write does nothing');
  assert.equal(w('\n'), 22);
  assert.equal(w('traceoff:abc'), 22);
  assert.equal(w('traceoff:-1'), 22);
  assert.equal(w('traceoff if'), 22);
  assert.equal(w('traceon extra'), 22);
  assert.equal(w('traceoff:1if'), 22);
  assert.equal(w('traceoff 5'), 0);
  assert.equal(set.read(), 'traceoff:count=5\n');
  w('!traceoff');
  assert.equal(w('traceoff:5:junk'), 0);
  assert.equal(set.read(), 'traceoff:count=5\n');
  w('!traceoff');
  assert.equal(w('traceoff:18446744073709551615'), 0);
  assert.equal(set.read(), 'traceoff:unlimited\n');
  w('!traceoff');
  assert.equal(w('traceoff:18446744073709551614'), 0);
  assert.equal(set.read(), 'traceoff:count=-2\n');
  w('!traceoff');
  assert.equal(w('traceoff:0x10 if status == 1'), 0);
  assert.equal(set.read(), 'traceoff:count=16 if status == 1\n');
  w('!traceoff');
  assert.equal(w('traceoff:'), 0, 'an empty parameter is no parameter');
  assert.equal(set.read(), 'traceoff:unlimited\n');
  w('!traceoff');
  assert.equal(w('   traceon:5 if status == 1 && url ~ "x*"   '), 0);
  assert.equal(set.read(), 'traceon:count=5 if status == 1 && url ~ "x*"\n');
  w('!traceon');
  // enable_event targets
  assert.equal(w('enable_event:http:response:1:x'), 0);
  assert.equal(set.read(), 'enable_event:http:response:count=1\n');
  assert.equal(w('disable_event:http:response'), 17, 'one enable/disable trigger per target');
  assert.equal(w('enable_event:sched:other if status==1'), 0);
  assert.equal(w('stacktrace:2'), 0);
  assert.equal(
    set.read(),
    'stacktrace:count=2\nenable_event:sched:other:unlimited if status==1\nenable_event:http:response:count=1\n',
    'newest first',
  );
  assert.equal(w('!enable_event:http:nope'), 22);
  assert.equal(w('!enable_event:http:response:5 if x'), 0);
  assert.equal(w('enable_event:http:response:'), 22);
  assert.equal(w('enable_event::'), 22);
  assert.equal(w('enable_event:http:'), 22);
  assert.equal(w('enable_event'), 22);
  // filter errors: the filter's errno and an error_log entry for the filter text
  log.entries.length = 0;
  assert.equal(w('traceon if status == 1 garbage'), 1);
  assert.equal(w('traceon if nope == 1'), 22);
  assert.deepEqual(log.entries, [
    {
      location: 'event filter parse error',
      message: 'Too many terms in predicate expression',
      command: 'status == 1 garbage',
      pos: 12,
    },
    { location: 'event filter parse error', message: 'Field not found', command: 'nope == 1', pos: 5 },
  ]);
});

test('firing uses the counts of the published specs: the set reads back what was used up', () => {
  const { inst, set, w } = setup();
  w('snapshot:3');
  inst.fire(set, {}, ctx);
  inst.fire(set, {}, ctx);
  assert.equal(set.read(), 'snapshot:count=1\n');
  assert.equal(inst.snapshots, 2);
});
