import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineEvent } from '../../../src/index.js';
import { readEventFilter, setEventFilter, setSystemFilter } from '../../../src/trace/control/index.js';
import { createInstance, destroyInstance, eventState, IE_FILTER, setEventEnabled } from '../../../src/trace/engine.js';
import { CollectingErrorLog } from '../../../src/trace/languages/error-sink.js';
import { Agent, recordsOf } from './support.js';

const fields = { method: 'string', url: 'string', status: 'u16', bytes: 'u32' } as const;
const req = defineEvent('ctlf', 'request', fields);
const other = defineEvent('ctlf', 'other', { n: 'u32' });
const statuses = [200, 404, 500, 503, 201, 502];
const values = statuses.map((status, i) => ({ method: 'GET', url: `/api/${i}`, status, bytes: i }));

test('a filter set from another thread applies to the main thread and to a worker emitter', async (t) => {
  const inst = createInstance('ctl-filter');
  const fs = await Agent.start('fs');
  const app = await Agent.start('app-worker');
  t.after(async () => {
    await fs.stop();
    await app.stop();
    destroyInstance(inst);
  });
  assert.equal(await app.define('ctlf', 'request', fields), req.id);
  setEventEnabled(inst, req.id, true);
  const w = await fs.control<number>('setEventFilter', inst, req.id, 'status >= 500 && url ~ "/api/*"', '$log');
  assert.equal(w.result, 0);
  assert.equal(w.log.length, 0);
  assert.notEqual(eventState(inst, req.id) & IE_FILTER, 0);
  for (const v of values) req.emit(v);
  await app.emit('ctlf', 'request', values);
  const got = recordsOf(inst, req.id).map((r) => r.status);
  assert.deepEqual(got, [500, 503, 502, 500, 503, 502]);
  // `0` clears: everything is recorded again, by both threads.
  assert.equal((await fs.control<number>('setEventFilter', inst, req.id, '0', '$log')).result, 0);
  assert.equal(eventState(inst, req.id) & IE_FILTER, 0);
  req.emit(values[0]);
  await app.emit('ctlf', 'request', [values[1]]);
  assert.deepEqual(
    recordsOf(inst, req.id)
      .slice(6)
      .map((r) => r.status),
    [200, 404],
  );
});

test('a rejected filter replaces and disables the previous one', (t) => {
  const inst = createInstance('ctl-reject');
  t.after(() => destroyInstance(inst));
  setEventEnabled(inst, req.id, true);
  const log = new CollectingErrorLog();
  assert.equal(setEventFilter(inst, req.id, 'status == 404', log), 0);
  req.emit(values[0]);
  req.emit(values[1]);
  assert.deepEqual(
    recordsOf(inst, req.id).map((r) => r.status),
    [404],
  );
  const errno = setEventFilter(inst, req.id, 'nosuchfield == 1', log);
  assert.equal(errno, 22);
  assert.equal(log.entries.length, 1);
  assert.equal(log.entries[0].message, 'Field not found');
  assert.match(readEventFilter(inst, req.id), /^nosuchfield == 1\n {12}\^\nparse_error: Field not found\n/);
  req.emit(values[0]);
  req.emit(values[2]);
  assert.deepEqual(
    recordsOf(inst, req.id).map((r) => r.status),
    [404, 200, 500],
  );
});

test('a system filter applies to the events that have the field; the others record everything', (t) => {
  const inst = createInstance('ctl-sys');
  t.after(() => destroyInstance(inst));
  setEventEnabled(inst, req.id, true);
  setEventEnabled(inst, other.id, true);
  const log = new CollectingErrorLog();
  assert.equal(setSystemFilter(inst, 'ctlf', 'status == 201', log), 0);
  for (const v of values) req.emit(v);
  other.emit({ n: 7 });
  assert.deepEqual(
    recordsOf(inst, req.id).map((r) => r.status),
    [201],
  );
  assert.deepEqual(
    recordsOf(inst, other.id).map((r) => r.n),
    [7],
  );
  assert.match(readEventFilter(inst, other.id), /Couldn't find or set field in one of a subsystem's events/);
});

test('a filter on one instance does not touch another', (t) => {
  const a = createInstance('ctl-a');
  const b = createInstance('ctl-b');
  t.after(() => {
    destroyInstance(a);
    destroyInstance(b);
  });
  setEventEnabled(a, req.id, true);
  setEventEnabled(b, req.id, true);
  assert.equal(setEventFilter(a, req.id, 'bytes == 3', new CollectingErrorLog()), 0);
  for (const v of values) req.emit(v);
  assert.deepEqual(
    recordsOf(a, req.id).map((r) => r.bytes),
    [3],
  );
  assert.equal(recordsOf(b, req.id).length, 6);
});
