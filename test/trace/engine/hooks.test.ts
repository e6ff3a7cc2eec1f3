import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineEvent } from '../../../src/index.js';
import {
  bumpFilterGeneration,
  createInstance,
  destroyInstance,
  getEvent,
  IE_FILTER,
  IE_SOFT_DISABLED,
  IE_TRIGGER,
  setEventEnabled,
  setFilterProvider,
  setTriggerProvider,
  TraceIterator,
  updateEventState,
} from '../../../src/trace/engine.js';
import { decode, decodeRecord, drain, recordedNs } from './support.js';

const ev = defineEvent('hook', 'rec', { n: 'u32', s: 'string' });
const payload = (bytes: Uint8Array, at: number) => {
  const layout = getEvent(ev.id)!.layout;
  return decode(layout, bytes.slice(at, at + 64));
};

test('a filter provider decides per record, and is asked again when the generation moves', (t) => {
  const inst = createInstance('filtered');
  t.after(() => {
    setFilterProvider(undefined);
    destroyInstance(inst);
  });
  setEventEnabled(inst, ev.id, true);
  let keep = 0;
  const asked: number[] = [];
  setFilterProvider((i, id, gen) => {
    asked.push(gen);
    if (i !== inst || id !== ev.id) return undefined;
    return (bytes, at) => (payload(bytes, at).n as number) % 2 === keep;
  });
  updateEventState(inst, ev.id, IE_FILTER, 0);
  for (let i = 0; i < 6; i++) ev.emit({ n: i, s: 'x' });
  keep = 1;
  bumpFilterGeneration(inst, ev.id);
  for (let i = 6; i < 12; i++) ev.emit({ n: i, s: 'x' });
  updateEventState(inst, ev.id, 0, IE_FILTER);
  ev.emit({ n: 100, s: 'x' });
  assert.deepEqual(recordedNs(inst), [0, 2, 4, 7, 9, 11, 100]);
  assert.equal(asked.length, 2, 'provider asked once per generation');
});

test('a trigger keeps the event enabled without recording and sees every record', (t) => {
  const inst = createInstance('triggered');
  const seen: unknown[] = [];
  t.after(() => setTriggerProvider(undefined));
  setTriggerProvider((i, id) =>
    i === inst && id === ev.id ? (bytes, at) => seen.push(payload(bytes, at)) : undefined,
  );
  assert.equal(ev.enabled, false);
  updateEventState(inst, ev.id, IE_TRIGGER, 0);
  assert.equal(ev.enabled, true, 'a trigger anywhere enables the tracepoint');
  ev.emit({ n: 1, s: 'one' });
  assert.deepEqual(seen, [{ n: 1, s: 'one' }]);
  assert.deepEqual(recordedNs(inst), [], 'not recorded: the event is not enabled there');
  // Enabled but soft-disabled: the trigger runs, nothing is recorded.
  setEventEnabled(inst, ev.id, true);
  updateEventState(inst, ev.id, IE_SOFT_DISABLED, 0);
  ev.emit({ n: 2, s: 'two' });
  assert.deepEqual(recordedNs(inst), []);
  updateEventState(inst, ev.id, 0, IE_SOFT_DISABLED);
  ev.emit({ n: 3, s: 'three' });
  assert.deepEqual(recordedNs(inst), [3]);
  assert.deepEqual(
    seen.map((x) => (x as { n: number }).n),
    [1, 2, 3],
  );
  setEventEnabled(inst, ev.id, false);
  updateEventState(inst, ev.id, 0, IE_TRIGGER);
  assert.equal(ev.enabled, false);
  updateEventState(inst, ev.id, IE_TRIGGER, 0);
  destroyInstance(inst);
  assert.equal(ev.enabled, false, 'destroying the instance drops its triggers');
});

test('a trigger may emit another event (a synthetic event) into the same ring', (t) => {
  const inst = createInstance('synthetic');
  const synth = defineEvent('hook', 'synth', { from: 'u32' });
  t.after(() => {
    setTriggerProvider(undefined);
    destroyInstance(inst);
  });
  setTriggerProvider((i, id) =>
    i === inst && id === ev.id ? (bytes, at) => synth.emit({ from: payload(bytes, at).n as number }) : undefined,
  );
  setEventEnabled(inst, ev.id, true);
  setEventEnabled(inst, synth.id, true);
  updateEventState(inst, ev.id, IE_TRIGGER, 0);
  for (let i = 0; i < 3; i++) ev.emit({ n: i, s: `r${i}` });
  assert.deepEqual(
    drain(new TraceIterator(inst)).map((r) => [r.event?.name, decodeRecord(r)]),
    [0, 1, 2].flatMap((i) => [
      ['rec', { n: i, s: `r${i}` }],
      ['synth', { from: i }],
    ]),
  );
});

test('a trigger that keeps emitting its own event is cut off, not a crash', (t) => {
  const inst = createInstance('loop');
  let calls = 0;
  t.after(() => {
    setTriggerProvider(undefined);
    destroyInstance(inst);
  });
  setTriggerProvider((i, id) =>
    i === inst && id === ev.id
      ? () => {
          calls++;
          ev.emit({ n: calls, s: 'again' });
        }
      : undefined,
  );
  setEventEnabled(inst, ev.id, true);
  updateEventState(inst, ev.id, IE_TRIGGER, 0);
  assert.doesNotThrow(() => ev.emit({ n: 0, s: 'first' }));
  assert.equal(calls, 4, 'nesting stops at 4 levels');
  assert.equal(drain(new TraceIterator(inst)).length, 5);
});
