/**
 * Removing an event: EBUSY while it is enabled (soft-enabled included) in any instance or has a trigger, as the
 * kernel refuses; otherwise it goes at once. Includes the race between remove() and an enable in another thread.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { defineEvent, type TraceEvent } from '../../../src/index.js';
import { clearEventControl, setEventFilter, writeEnable, writeTrigger } from '../../../src/trace/control/index.js';
import {
  combinedFlag,
  createInstance,
  destroyInstance,
  EventBusyError,
  findEvent,
  IE_FILTER,
  IE_SOFT_MODE,
  IE_TRIGGER,
  isEventEnabled,
  isEventLive,
  listEvents,
  setEventEnabled,
  TOP_INSTANCE,
  TraceIterator,
  updateEventState,
} from '../../../src/trace/engine.js';
import { CollectingErrorLog } from '../../../src/trace/languages/error-sink.js';
import { drain } from './support.js';

/** The worker's answer for this round (spins: the worker answers within microseconds; bounded if it died). */
function workerAnswer(words: Int32Array): number {
  const deadline = Date.now() + 10_000;
  for (let spins = 1; ; spins++) {
    const a = Atomics.load(words, 2);
    if (a !== 0) return a;
    if (spins % 100_000 === 0 && Date.now() > deadline) throw new Error('the enabling worker stopped answering');
  }
}

const isBusy = (e: unknown) =>
  e instanceof EventBusyError && e.code === 'EBUSY' && /^ntrace: event \w+:\w+ is enabled/.test(e.message);

function assertStillThere(ev: TraceEvent): void {
  assert.ok(isEventLive(ev.id), 'still live');
  assert.equal(findEvent(ev.system, ev.name)?.id, ev.id, 'still found');
  assert.ok(
    listEvents().some((e) => e.id === ev.id),
    'still listed',
  );
}

function assertGone(ev: TraceEvent): void {
  assert.equal(isEventLive(ev.id), false);
  assert.equal(findEvent(ev.system, ev.name), undefined);
  assert.equal(combinedFlag(ev.id), 0);
  assert.equal(ev.enabled, false);
}

test('remove() answers EBUSY while the event is enabled in any instance, and works once disabled', (t) => {
  const inst = createInstance('rm-busy');
  t.after(() => destroyInstance(inst));
  const ev = defineEvent('rmbusy', 'enabled', { n: 'u32' });
  setEventEnabled(inst, ev.id, true);
  ev.emit({ n: 1 });
  assert.throws(() => ev.remove(), isBusy);
  assertStillThere(ev);
  assert.ok(isEventEnabled(inst, ev.id), 'a refused removal changes nothing');
  ev.emit({ n: 2 });
  assert.deepEqual(
    drain(new TraceIterator(inst)).map((r) => r.id),
    [ev.id, ev.id],
    'it still records',
  );
  // Enabled at the top level too: disabling one instance is not enough.
  setEventEnabled(TOP_INSTANCE, ev.id, true);
  setEventEnabled(inst, ev.id, false);
  assert.throws(() => ev.remove(), isBusy);
  setEventEnabled(TOP_INSTANCE, ev.id, false);
  ev.remove();
  assertGone(ev);
  ev.remove(); // a second remove is a no-op
  assert.equal(setEventEnabled(inst, ev.id, true), false, 'a removed event cannot be enabled');
  assertGone(ev);
});

test('soft mode, soft-disabled and trigger bits make the event busy; a filter alone does not', (t) => {
  const inst = createInstance('rm-bits');
  t.after(() => destroyInstance(inst));
  for (const bit of [IE_SOFT_MODE, IE_TRIGGER]) {
    const ev = defineEvent('rmbits', `bit${bit}`, { n: 'u32' });
    updateEventState(inst, ev.id, bit, 0);
    assert.throws(() => ev.remove(), isBusy, `bit ${bit}`);
    assertStillThere(ev);
    updateEventState(inst, ev.id, 0, bit);
    ev.remove();
    assertGone(ev);
  }
  const filtered = defineEvent('rmbits', 'filtered', { n: 'u32' });
  updateEventState(inst, filtered.id, IE_FILTER, 0);
  filtered.remove();
  assertGone(filtered);
  // Busy bits set on a removed event do not stick.
  updateEventState(inst, filtered.id, IE_TRIGGER | IE_SOFT_MODE, 0);
  assert.equal(combinedFlag(filtered.id), 0);
});

test('triggers and soft-enable through the control plane keep an event from going', (t) => {
  const inst = createInstance('rm-ctl');
  const log = new CollectingErrorLog();
  t.after(() => destroyInstance(inst));
  const source = defineEvent('rmctl', 'source', { n: 'u32' });
  const target = defineEvent('rmctl', 'target', { n: 'u32' });
  // A trigger on the event itself (the kernel keeps the tracepoint registered for it).
  assert.equal(writeTrigger(inst, source.id, 'traceoff', log), 0);
  assert.throws(() => source.remove(), isBusy);
  // enable_event puts its target in soft mode (the kernel's `0*`): the target is busy too.
  assert.equal(writeTrigger(inst, source.id, 'enable_event:rmctl:target', log), 0);
  assert.throws(() => target.remove(), isBusy);
  assert.equal(writeTrigger(inst, source.id, '!enable_event:rmctl:target', log), 0);
  target.remove();
  assertGone(target);
  assert.throws(() => source.remove(), isBusy, 'the traceoff trigger is still there');
  assert.equal(writeTrigger(inst, source.id, '!traceoff', log), 0);
  // A filter is no reason to refuse; enabling through the enable file's rules is.
  assert.equal(setEventFilter(inst, source.id, 'n > 3', log), 0);
  assert.equal(writeEnable(inst, source.id, true), 0);
  assert.throws(() => source.remove(), isBusy);
  assert.equal(writeEnable(inst, source.id, false), 0);
  source.remove();
  assertGone(source);
  clearEventControl(inst, source.id);
});

test('a removal that loses the race to an enable in another thread answers EBUSY, never half-removes', async (t) => {
  const inst = createInstance('rm-race');
  // [round, id, worker's answer (1 enabled, 2 refused), spin count]
  const words = new Int32Array(new SharedArrayBuffer(16));
  const worker = new Worker(new URL('./fixtures/enable-race-worker.js', import.meta.url), {
    workerData: { words, instance: inst },
  });
  const failed = new Promise<never>((_, reject) => worker.once('error', reject));
  failed.catch(() => {}); // reported by workerAnswer's bound
  t.after(async () => {
    Atomics.store(words, 0, -1);
    await worker.terminate();
    destroyInstance(inst);
  });
  await Promise.race([failed, new Promise((r) => worker.once('message', r))]);
  const ROUNDS = 1500;
  let removed = 0;
  let busy = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const ev = defineEvent('rmrace', `e${round}`, {});
    Atomics.store(words, 1, ev.id);
    Atomics.store(words, 2, 0);
    Atomics.store(words, 0, round);
    // Vary who starts first.
    for (let i = round % 64; i > 0; i--) Atomics.load(words, 3);
    let ok = true;
    try {
      ev.remove();
    } catch (e) {
      assert.ok(isBusy(e), String(e));
      ok = false;
    }
    const answer = workerAnswer(words);
    // Exactly one of the two wins, and the state says which.
    if (ok) {
      removed++;
      assert.equal(answer, 2, `round ${round}: removed, yet the enable was accepted`);
      assert.equal(isEventEnabled(inst, ev.id), false);
      assert.equal(combinedFlag(ev.id), 0);
      assert.equal(isEventLive(ev.id), false);
    } else {
      busy++;
      assert.equal(answer, 1, `round ${round}: refused, yet the enable was refused too`);
      assert.ok(isEventEnabled(inst, ev.id));
      assert.ok(isEventLive(ev.id));
      setEventEnabled(inst, ev.id, false);
      ev.remove();
      assertGone(ev);
    }
  }
  assert.equal(removed + busy, ROUNDS);
  t.diagnostic(`removed first: ${removed}, enabled first: ${busy}`);
});
