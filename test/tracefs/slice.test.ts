/** The first end-to-end slice: define an event, enable it through the mount, emit, read trace and trace_pipe. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineEvent } from '../../src/trace/event.js';
import { mountTracefs, ok, sh, uniqueSystem } from './helpers.js';

test('echo 1 > enable, emit, cat trace and trace_pipe', async (t) => {
  const sys = uniqueSystem('slice');
  const ev = defineEvent(sys, 'hello', { n: 'u32', who: 'string' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  assert.equal(ok(`cat ${d}/events/${sys}/hello/enable`), '0\n');
  assert.equal(ev.enabled, false);
  ok(`echo 1 > ${d}/events/${sys}/hello/enable`);
  assert.equal(ok(`cat ${d}/events/${sys}/hello/enable`), '1\n');
  assert.equal(ev.enabled, true);
  ev.emit({ n: 42, who: 'world' });
  const trace = ok(`cat ${d}/trace`);
  assert.match(trace, /^# tracer: nop$/m);
  assert.match(trace, /hello: n=42 who=world$/m);
  const pipe = sh(`timeout 5 head -n 1 ${d}/trace_pipe`);
  assert.equal(pipe.code, 0, pipe.err);
  assert.match(pipe.out, /hello: n=42 who=world\n$/);
  // Consumed: the trace is empty of it now.
  assert.doesNotMatch(ok(`cat ${d}/trace`), /hello: n=42/);
  ok(`echo 0 > ${d}/events/${sys}/hello/enable`);
  assert.equal(ev.enabled, false);
});
