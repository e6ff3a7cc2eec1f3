/**
 * Removing an event at run time, through a real mount: `remove()` answers EBUSY while the event is enabled anywhere
 * (set through `enable` or `set_event`, at the top level or in an instance, soft-enabled by another event's trigger)
 * or has a trigger — nothing changes in the tree then; otherwise the event goes even while its files are open (they
 * answer ENODEV) and its system directory goes with its last event.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineEvent, type TraceEvent } from '../../src/trace/event.js';
import { eventually } from '../support/mount.js';
import { assertMatch, mountTracefs, ok, sh, uniqueSystem, whileOpen } from './helpers.js';

const listed = (dir: string, name: string) => ok(`ls ${dir}`).split('\n').includes(name);

function assertBusy(ev: TraceEvent, why: string): void {
  assert.throws(
    () => ev.remove(),
    (e: unknown) => (e as { code?: string }).code === 'EBUSY' && e instanceof Error && e.message.includes(ev.name),
    why,
  );
}

test('an enabled event is busy at the top level, in an instance and through set_event; disabled, it goes', async (t) => {
  const sys = uniqueSystem('rmfs');
  const ev = defineEvent(sys, 'busy', { v: 'u32' });
  const other = defineEvent(sys, 'other', { v: 'u32' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  ok(`mkdir ${d}/instances/rmfs`);
  t.after(() => sh(`echo 0 > ${d}/events/${sys}/enable; rmdir ${d}/instances/rmfs`));
  const e = `${d}/events/${sys}/busy`;

  ok(`echo 1 > ${e}/enable`);
  assertBusy(ev, 'enabled at the top level');
  // Nothing changed: still listed, still enabled, still recording.
  assert.ok(listed(`${d}/events/${sys}`, 'busy'));
  assert.equal(ok(`cat ${e}/enable`), '1\n');
  ev.emit({ v: 41 });
  assertMatch(ok(`cat ${d}/trace`), /busy: v=41$/m);
  ok(`echo 0 > ${e}/enable`);

  ok(`echo ${sys}:busy > ${d}/instances/rmfs/set_event`);
  assertBusy(ev, 'enabled in an instance through set_event');
  assert.equal(ok(`cat ${d}/instances/rmfs/events/${sys}/busy/enable`), '1\n');
  ok(`echo '!${sys}:busy' > ${d}/instances/rmfs/set_event`);

  // System-level enable reaches it too.
  ok(`echo 1 > ${d}/instances/rmfs/events/${sys}/enable`);
  assertBusy(ev, 'enabled through the system enable file');
  ok(`echo 0 > ${d}/instances/rmfs/events/${sys}/enable`);

  // Disabled everywhere: it goes, with its `enable` file held open (which then answers ENODEV).
  const answer = await whileOpen(`${e}/enable`, 'os.open(P, os.O_RDONLY)', () => ev.remove(), 'os.read(fd, 10)');
  assert.equal(answer, 'ENODEV');
  assert.ok(await eventually(() => !listed(`${d}/events/${sys}`, 'busy'), 2000), 'busy unlisted');
  assert.ok(await eventually(() => !listed(`${d}/instances/rmfs/events/${sys}`, 'busy'), 2000), 'gone in the instance');
  assert.doesNotMatch(ok(`cat ${d}/available_events`), new RegExp(`^${sys}:busy$`, 'm'));
  assert.ok(listed(`${d}/events`, sys), 'the system stays while it has an event');
  // The records it left still print.
  assertMatch(ok(`cat ${d}/trace`), /busy: v=41$/m);

  other.remove();
  assert.ok(await eventually(() => !listed(`${d}/events`, sys), 2000), 'the system goes with its last event');
  assert.ok(await eventually(() => !listed(`${d}/instances/rmfs/events`, sys), 2000), 'also in the instance');
});

test('a trigger, or soft mode from another event’s trigger, makes an event busy even while disabled', async (t) => {
  const sys = uniqueSystem('rmtrig');
  const source = defineEvent(sys, 'source', { v: 'u32' });
  const target = defineEvent(sys, 'target', { v: 'u32' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  const ev = (name: string) => `${d}/events/${sys}/${name}`;
  t.after(() =>
    sh(`echo '!traceoff' >> ${ev('source')}/trigger; echo '!enable_event:${sys}:target' >> ${ev('source')}/trigger`),
  );

  ok(`echo traceoff > ${ev('source')}/trigger`);
  assert.equal(ok(`cat ${ev('source')}/enable`), '0*\n', 'held in soft mode by its trigger');
  assertBusy(source, 'a trigger');

  ok(`echo 'enable_event:${sys}:target' >> ${ev('source')}/trigger`);
  assert.equal(ok(`cat ${ev('target')}/enable`), '0*\n', 'soft mode, soft-disabled');
  assertBusy(target, 'soft-enabled by enable_event');

  ok(`echo '!enable_event:${sys}:target' >> ${ev('source')}/trigger`);
  assert.equal(ok(`cat ${ev('target')}/enable`), '0\n');
  target.remove();
  assert.ok(await eventually(() => !listed(`${d}/events/${sys}`, 'target'), 2000), 'target unlisted');

  assertBusy(source, 'the traceoff trigger is still there');
  ok(`echo '!traceoff' >> ${ev('source')}/trigger`);
  // A filter is no reason to refuse (the kernel drops it with the event); its open file answers ENODEV after.
  ok(`echo 'v > 3' > ${ev('source')}/filter`);
  const answer = await whileOpen(
    `${ev('source')}/filter`,
    'os.open(P, os.O_RDONLY)',
    () => source.remove(),
    'os.read(fd, 100)',
  );
  assert.equal(answer, 'ENODEV');
  assert.ok(await eventually(() => !listed(`${d}/events`, sys), 2000), 'the system goes with its last event');
});
