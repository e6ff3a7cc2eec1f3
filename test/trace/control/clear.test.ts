/**
 * clearEventControl (before an event goes away) removes every trigger and the filter, and the engine's state bits
 * follow: no IE_TRIGGER / IE_FILTER on the event, no IE_SOFT_MODE on it or on an enable_event target — as the
 * kernel's clear_event_triggers, which drops every trigger of the event.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineEvent } from '../../../src/index.js';
import {
  clearEventControl,
  hasTrigger,
  readTrigger,
  setEventFilter,
  writeTrigger,
} from '../../../src/trace/control/index.js';
import {
  createInstance,
  destroyInstance,
  eventState,
  IE_FILTER,
  IE_SOFT_MODE,
  IE_TRIGGER,
  isTracingOn,
} from '../../../src/trace/engine.js';
import { CollectingErrorLog } from '../../../src/trace/languages/error-sink.js';
import { enableFile } from './support.js';

const fields = { status: 'u16' } as const;
const src = defineEvent('ctlclr', 'src', fields);
const dst = defineEvent('ctlclr', 'dst', fields);
const log = new CollectingErrorLog();

test('clearEventControl removes traceoff and enable_event together, and their state bits', (t) => {
  const inst = createInstance('ctl-clear');
  t.after(() => destroyInstance(inst));
  assert.equal(writeTrigger(inst, src.id, 'traceoff', log), 0);
  assert.equal(writeTrigger(inst, src.id, 'enable_event:ctlclr:dst', log), 0);
  assert.equal(setEventFilter(inst, src.id, 'status >= 500', log), 0);
  assert.equal(enableFile(inst, src.id), '0*\n');
  assert.equal(enableFile(inst, dst.id), '0*\n');

  assert.equal(clearEventControl(inst, src.id), 0);
  assert.equal(hasTrigger(inst, src.id), false);
  assert.match(readTrigger(inst, src.id), /^# Available triggers:/);
  const st = eventState(inst, src.id);
  assert.equal(st & IE_TRIGGER, 0, 'IE_TRIGGER cleared');
  assert.equal(st & IE_FILTER, 0, 'IE_FILTER cleared');
  assert.equal(st & IE_SOFT_MODE, 0, 'the event leaves soft mode');
  assert.equal(eventState(inst, dst.id) & IE_SOFT_MODE, 0, 'the enable_event target leaves soft mode');
  assert.equal(enableFile(inst, src.id), '0\n');
  assert.equal(enableFile(inst, dst.id), '0\n');
  // Nothing fires any more: the traceoff is gone for the emitting thread too.
  src.emit({ status: 1 });
  assert.equal(isTracingOn(inst), true);
});
