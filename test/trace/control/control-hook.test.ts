/**
 * The engine's control hook as every emitting thread runs it: a filter decides per record and is compiled again
 * when it changes; a trigger keeps its event live without recording it, and sees every emit whether the event
 * records, is soft-disabled (`0*`) or enabled (`1*`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineEvent } from '../../../src/index.js';
import { readHist, setEventFilter, writeEnable, writeTrigger } from '../../../src/trace/control/index.js';
import { createInstance, destroyInstance, setEventEnabled } from '../../../src/trace/engine.js';
import { CollectingErrorLog } from '../../../src/trace/languages/error-sink.js';
import { enableFile, recordsOf } from './support.js';

const ev = defineEvent('hook', 'rec', { n: 'u32', s: 'string' });
const log = new CollectingErrorLog();
const ns = (inst: number) => recordsOf(inst, ev.id).map((r) => r.n);

test('a filter decides per record, and a new filter applies from the next emit', (t) => {
  const inst = createInstance('filtered');
  t.after(() => destroyInstance(inst));
  setEventEnabled(inst, ev.id, true);
  assert.equal(setEventFilter(inst, ev.id, 'n < 3', log), 0);
  for (let i = 0; i < 6; i++) ev.emit({ n: i, s: 'x' });
  assert.equal(setEventFilter(inst, ev.id, 'n >= 9', log), 0);
  for (let i = 6; i < 12; i++) ev.emit({ n: i, s: 'x' });
  assert.equal(setEventFilter(inst, ev.id, '0', log), 0);
  ev.emit({ n: 100, s: 'x' });
  assert.deepEqual(ns(inst), [0, 1, 2, 9, 10, 11, 100]);
});

test('a trigger keeps the event live without recording, and sees every emit', (t) => {
  const inst = createInstance('triggered');
  let destroyed = false;
  t.after(() => destroyed || destroyInstance(inst));
  const hits = () => Number(/Hits: (\d+)/.exec(readHist(inst, ev.id))?.[1] ?? -1);
  assert.equal(ev.enabled, false);
  assert.equal(writeTrigger(inst, ev.id, 'hist:keys=n', log), 0);
  assert.equal(ev.enabled, true, 'a trigger anywhere makes the tracepoint live');
  assert.equal(enableFile(inst, ev.id), '0*\n');
  ev.emit({ n: 1, s: 'one' });
  assert.equal(hits(), 1);
  assert.deepEqual(ns(inst), [], 'not recorded: the event is soft-disabled');
  assert.equal(writeEnable(inst, ev.id, true), 0);
  assert.equal(enableFile(inst, ev.id), '1*\n');
  ev.emit({ n: 2, s: 'two' });
  assert.equal(writeEnable(inst, ev.id, false), 0);
  assert.equal(enableFile(inst, ev.id), '0*\n');
  ev.emit({ n: 3, s: 'three' });
  assert.deepEqual(ns(inst), [2]);
  assert.equal(hits(), 3);
  assert.equal(writeTrigger(inst, ev.id, '!hist:keys=n', log), 0);
  assert.equal(ev.enabled, false, 'the last trigger gone, the tracepoint is off');
  assert.equal(writeTrigger(inst, ev.id, 'hist:keys=n', log), 0);
  destroyInstance(inst);
  destroyed = true;
  assert.equal(ev.enabled, false, 'destroying the instance drops its triggers');
});
