import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineEvent } from '../../../src/index.js';
import { readHist, readTrigger, truncateTriggers, writeTrigger } from '../../../src/trace/control/index.js';
import { createInstance, destroyInstance } from '../../../src/trace/engine.js';
import { CollectingErrorLog } from '../../../src/trace/languages/error-sink.js';
import { Agent } from './support.js';

const fields = { url: 'string', status: 'u16', bytes: 'u32' } as const;
const ev = defineEvent('ctlh', 'req', fields);

/** `{ status: N } hitcount: H` pairs of a hist file. */
function hits(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/\{ status:\s+(\d+) \} hitcount:\s+(\d+)/g)) out[m[1]] = Number(m[2]);
  return out;
}

test('hist counts from two worker emitters are merged, and read from another worker while main spins', async (t) => {
  const inst = createInstance('ctl-hist');
  const fs = await Agent.start('fs');
  const w1 = await Agent.start('w1');
  const w2 = await Agent.start('w2');
  t.after(async () => {
    await Promise.all([fs.stop(), w1.stop(), w2.stop()]);
    destroyInstance(inst);
  });
  for (const w of [w1, w2]) await w.define('ctlh', 'req', fields);
  const r = await fs.control<number>('writeTrigger', inst, ev.id, 'hist:keys=status:vals=bytes:sort=status', '$log');
  assert.equal(r.result, 0);
  const v = (status: number) => ({ url: '/', status, bytes: 10 });
  await Promise.all([
    w1.emit('ctlh', 'req', [v(200), v(200), v(500)], 300),
    w2.emit('ctlh', 'req', [v(200), v(404)], 250),
  ]);
  const text = (await fs.control<string>('readHist', inst, ev.id)).result;
  assert.deepEqual(hits(text), { '200': 850, '404': 250, '500': 300 });
  assert.match(
    text,
    /^# event histogram\n#\n# trigger info: hist:keys=status:vals=hitcount,bytes:sort=status:size=2048 \[active\]\n/,
  );
  assert.match(text, /\{ status:\s+200 \} hitcount:\s+850 {2}bytes:\s+8500\n/);
  assert.match(text, /Totals:\n {4}Hits: 1400\n {4}Entries: 3\n {4}Dropped: 0\n/);
  assert.equal(readHist(inst, ev.id), text, 'same content from any thread');

  // The main thread emits in a busy loop that never yields; the fs worker reads the hist meanwhile.
  const flag = new Int32Array(new SharedArrayBuffer(8));
  const reading = fs.send<{ text: string; whileBusy: boolean }>({
    op: 'histWhenBusy',
    flag,
    instance: inst,
    id: ev.id,
    until: 'status:        201',
  });
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
  const deadline = Date.now() + 20000;
  let spun = 0;
  while (Atomics.load(flag, 1) === 0 && Date.now() < deadline) {
    ev.emit(v(201));
    spun++;
  }
  Atomics.store(flag, 0, 2);
  const seen = await reading;
  assert.ok(seen.whileBusy, 'read while the main thread was spinning');
  assert.ok(spun > 0);
  assert.match(seen.text, /\{ status:\s+201 \} hitcount:\s+\d+/);
  assert.equal(hits(readHist(inst, ev.id))['201'], spun);
});

test('hist triggers: several per event, pause/cont/clear, O_TRUNC removes them, named hists are shared', (t) => {
  const inst = createInstance('ctl-hist2');
  const other = defineEvent('ctlh', 'other', fields);
  t.after(() => destroyInstance(inst));
  const log = new CollectingErrorLog();
  assert.equal(writeTrigger(inst, ev.id, 'hist:keys=status', log), 0);
  assert.equal(writeTrigger(inst, ev.id, 'hist:keys=status:vals=bytes', log), 0);
  assert.equal(writeTrigger(inst, ev.id, 'hist:keys=status', log), 17, 'EEXIST');
  for (let i = 0; i < 3; i++) ev.emit({ url: '/', status: 301, bytes: 1 });
  const both = readHist(inst, ev.id);
  assert.equal(both.split('# event histogram').length, 3);
  assert.equal(writeTrigger(inst, ev.id, 'hist:keys=status:pause', log), 0);
  ev.emit({ url: '/', status: 301, bytes: 1 });
  assert.match(readTrigger(inst, ev.id), /hist:keys=status:vals=hitcount:sort=hitcount:size=2048 \[paused\]/);
  assert.equal(writeTrigger(inst, ev.id, 'hist:keys=status:clear', log), 0);
  assert.equal(writeTrigger(inst, ev.id, 'hist:keys=status:cont', log), 0);
  ev.emit({ url: '/', status: 302, bytes: 1 });
  const sections = readHist(inst, ev.id).split('\n\n\n');
  assert.equal(sections.length, 2);
  const [withVals, plain] = readHist(inst, ev.id).includes('vals=hitcount,bytes')
    ? [sections[0], sections[1]]
    : [sections[1], sections[0]];
  assert.deepEqual(hits(withVals), { '301': 4, '302': 1 });
  assert.deepEqual(hits(plain), { '302': 1 });
  assert.equal(truncateTriggers(inst, ev.id), 0);
  assert.equal(readHist(inst, ev.id), '');

  assert.equal(writeTrigger(inst, ev.id, 'hist:name=shared:keys=status', log), 0);
  assert.equal(writeTrigger(inst, other.id, 'hist:name=shared:keys=status', log), 0);
  ev.emit({ url: '/', status: 1, bytes: 0 });
  other.emit({ url: '/', status: 1, bytes: 0 });
  assert.deepEqual(hits(readHist(inst, ev.id)), { '1': 2 });
  assert.equal(readHist(inst, other.id), readHist(inst, ev.id));
  // Named hists are global, as the kernel's: another instance's trigger of the same name shares the table.
  const inst2 = createInstance('ctl-hist2b');
  t.after(() => destroyInstance(inst2));
  assert.equal(writeTrigger(inst2, ev.id, 'hist:name=shared:keys=status', log), 0);
  ev.emit({ url: '/', status: 1, bytes: 0 });
  assert.deepEqual(hits(readHist(inst2, ev.id)), { '1': 4 }, 'two triggers on ev (two instances) and one on other');
});

test('disable_hist / enable_hist pause and resume the target hist from the emitting thread', (t) => {
  const inst = createInstance('ctl-hist3');
  const sw = defineEvent('ctlh', 'switch', { on: 'u8' });
  t.after(() => destroyInstance(inst));
  const log = new CollectingErrorLog();
  assert.equal(writeTrigger(inst, ev.id, 'hist:keys=status', log), 0);
  assert.equal(writeTrigger(inst, sw.id, 'disable_hist:ctlh:req if on == 0', log), 0);
  assert.equal(writeTrigger(inst, sw.id, 'enable_hist:ctlh:req', log), 17, 'one per target and type');
  assert.equal(writeTrigger(inst, sw.id, '!disable_hist:ctlh:req', log), 0);
  assert.equal(writeTrigger(inst, sw.id, 'disable_hist:ctlh:req:1', log), 0);
  ev.emit({ url: '/', status: 1, bytes: 0 });
  sw.emit({ on: 0 });
  ev.emit({ url: '/', status: 1, bytes: 0 });
  assert.match(readHist(inst, ev.id), /\[paused\]/);
  assert.deepEqual(hits(readHist(inst, ev.id)), { '1': 1 });
  assert.equal(writeTrigger(inst, sw.id, '!disable_hist:ctlh:req', log), 0);
  assert.equal(writeTrigger(inst, sw.id, 'enable_hist:ctlh:req', log), 0);
  sw.emit({ on: 1 });
  ev.emit({ url: '/', status: 1, bytes: 0 });
  assert.match(readHist(inst, ev.id), /\[active\]/);
  assert.deepEqual(hits(readHist(inst, ev.id)), { '1': 2 });
});

test('a table slot reused after a removal starts empty', async (t) => {
  const inst = createInstance('ctl-hist4');
  const e2 = defineEvent('ctlh', 'reuse', fields);
  t.after(() => destroyInstance(inst));
  const log = new CollectingErrorLog();
  assert.equal(writeTrigger(inst, ev.id, 'hist:keys=status', log), 0);
  for (let i = 0; i < 5; i++) ev.emit({ url: '/', status: 77, bytes: 0 });
  assert.deepEqual(hits(readHist(inst, ev.id)), { '77': 5 });
  assert.equal(writeTrigger(inst, ev.id, '!hist:keys=status', log), 0);
  // Past the grace period every freed slot is reusable; a new table takes the first fitting one.
  await new Promise((r) => setTimeout(r, 2100));
  for (const id of [e2.id]) assert.equal(writeTrigger(inst, id, 'hist:keys=status', log), 0);
  const text = readHist(inst, e2.id);
  assert.match(text, /Totals:\n {4}Hits: 0\n {4}Entries: 0\n/);
  e2.emit({ url: '/', status: 78, bytes: 0 });
  assert.deepEqual(hits(readHist(inst, e2.id)), { '78': 1 });
});
