/**
 * eventfs through the mount: enable at event, system and top level (the kernel selftests event-enable,
 * subsystem-enable and top-level-enable re-targeted to our events), set_event, format/id/header files, and events
 * appearing and vanishing at run time.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { defineEvent } from '../../src/trace/event.js';
import { AVAILABLE_TRIGGERS_TEXT } from '../../src/trace/languages/trigger/trigger-set.js';
import { eventually } from '../support/mount.js';
import { assertMatch, mountTracefs, ok, py, sh, uniqueSystem, whileOpen } from './helpers.js';

test('selftest event-enable / subsystem-enable / top-level-enable, re-targeted', async (t) => {
  const sys = uniqueSystem('ena');
  const a = defineEvent(sys, 'a', { v: 'u32' });
  const b = defineEvent(sys, 'b', { v: 'u32' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  const count = (re: RegExp) => (ok(`cat ${d}/trace`).match(re) ?? []).length;
  const fire = () => {
    a.emit({ v: 1 });
    b.emit({ v: 2 });
  };

  // event-enable.tc
  ok(`echo '${sys}:a' > ${d}/set_event`);
  fire();
  assert.ok(count(/ a: v=1/g) > 0, 'enabled through set_event');
  ok(`echo '!${sys}:a' > ${d}/set_event`);
  ok(`echo > ${d}/trace`);
  fire();
  assert.equal(count(/ a: v=1/g), 0);
  ok(`echo 1 > ${d}/events/${sys}/a/enable`);
  fire();
  assert.ok(count(/ a: v=1/g) > 0, 'enabled through the enable file');
  ok(`echo 0 > ${d}/events/${sys}/a/enable`);
  ok(`echo > ${d}/trace`);
  fire();
  assert.equal(count(/ a: v=1/g), 0);

  // subsystem-enable.tc
  ok(`echo '${sys}:*' > ${d}/set_event`);
  fire();
  assert.ok(count(/ a: v=1/g) > 0 && count(/ b: v=2/g) > 0);
  assert.equal(ok(`cat ${d}/events/${sys}/enable`), '1\n');
  ok(`echo 0 > ${d}/events/${sys}/a/enable`);
  assert.equal(ok(`cat ${d}/events/${sys}/enable`), 'X\n');
  ok(`echo 0 > ${d}/events/${sys}/enable`);
  assert.equal(ok(`cat ${d}/events/${sys}/enable`), '0\n');
  ok(`echo > ${d}/trace`);
  fire();
  assert.equal(count(/ [ab]: v=/g), 0);
  ok(`echo 1 > ${d}/events/${sys}/enable`);
  assert.equal(ok(`cat ${d}/events/${sys}/a/enable ${d}/events/${sys}/b/enable`), '1\n1\n');

  // top-level-enable.tc
  ok(`echo 0 > ${d}/events/enable`);
  assert.equal(ok(`cat ${d}/events/enable`), '0\n');
  ok(`echo '*:*' > ${d}/set_event`);
  assert.equal(ok(`cat ${d}/events/enable`), '1\n');
  ok(`echo > ${d}/trace`);
  fire();
  assert.ok(count(/ a: v=1/g) > 0 && count(/ b: v=2/g) > 0);
  ok(`echo 0 > ${d}/events/${sys}/b/enable`);
  assert.equal(ok(`cat ${d}/events/enable`), 'X\n');
  ok(`echo 0 > ${d}/events/enable`);
  assert.equal(ok(`cat ${d}/set_event`), '');
  assert.equal(a.enabled || b.enabled, false);
});

test('enable accepts only 0 and 1 after base-10 parsing', async (t) => {
  const sys = uniqueSystem('val');
  defineEvent(sys, 'e', { v: 'u32' });
  const m = await mountTracefs(t);
  const f = `${m.mountpoint}/events/${sys}/e/enable`;
  const s = `${m.mountpoint}/events/${sys}/enable`;
  const top = `${m.mountpoint}/events/enable`;
  const out = py(`
# (An empty write never reaches a FUSE filesystem: the kernel answers 0 itself; the kernel's tracefs says EINVAL.)
for v in [b'2', b'01', b' 1', b'0x1', b'1\\n', b'-1', b'abc', b'0']:
    t(lambda: w('${f}', v))
t(lambda: w('${s}', b'X'))
t(lambda: w('${s}', b'2'))
t(lambda: w('${top}', b'X'))
`);
  assert.deepEqual(out, [
    'EINVAL',
    '2',
    'EINVAL',
    'EINVAL',
    '2',
    'EINVAL',
    'EINVAL',
    '1',
    'EINVAL',
    'EINVAL',
    'EINVAL',
  ]);
});

test('set_event: one token per write, bytes consumed, forms, no globs, O_TRUNC disables all', async (t) => {
  const sys = uniqueSystem('set');
  const other = uniqueSystem('oth');
  defineEvent(sys, 'one', { v: 'u32' });
  defineEvent(sys, 'two', { v: 'u32' });
  defineEvent(other, 'one', { v: 'u32' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  const se = `${d}/set_event`;
  const out = py(`
print(w('${se}', b'${sys}:one ${sys}:two', os.O_WRONLY|os.O_TRUNC))
print(open('${se}').read().strip().replace('\\n', ','))
t(lambda: w('${se}', b'nosuch:ev'))
t(lambda: w('${se}', b'${sys}:on*'))
print(w('${se}', b''))
print(w('${se}', b'   '))
print(w('${se}', b'\\n'))
w('${se}', b'!${sys}:one\\n')
print(repr(open('${se}').read()))
`);
  assert.deepEqual(out, [String(`${sys}:one `.length), `${sys}:one`, 'EINVAL', 'EINVAL', '0', '3', '1', "''"]);
  // The shell writes the rest again: both tokens land.
  ok(`echo '${sys}:one ${sys}:two' > ${se}`);
  assert.equal(ok(`cat ${se}`), `${sys}:one\n${sys}:two\n`);
  ok(`echo ':one' > ${se}`); // O_TRUNC first: only events named "one", in any system
  assert.equal(ok(`cat ${se}`), `${sys}:one\n${other}:one\n`);
  ok(`echo '${other}' > ${se}`); // a bare name matches a system (or an event)
  assert.equal(ok(`cat ${se}`), `${other}:one\n`);
  ok(`echo '*:two' > ${se}`);
  assert.equal(ok(`cat ${se}`), `${sys}:two\n`);
  ok(`echo '${sys}:' > ${se}`);
  assert.equal(ok(`cat ${se}`), `${sys}:one\n${sys}:two\n`);
  ok(`echo -n '${other}:one' >> ${se}`); // a token without delimiter is applied too
  assert.equal(ok(`cat ${se}`), `${sys}:one\n${sys}:two\n${other}:one\n`);
  ok(`echo > ${se}`);
  assert.equal(ok(`cat ${se}`), '');
  assert.notEqual(sh(`echo '*' > ${se}`).code, 0); // EINVAL (dash reports any failed write as "I/O error")
});

test('format, id, header_page, header_event, available_events; ftrace events have no switches', async (t) => {
  const sys = uniqueSystem('fmt');
  const ev = defineEvent(sys, 'req', { method: 'string', status: 'u16' }, { print: 'method=%s status=%u' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  assert.equal(ok(`cat ${d}/events/${sys}/req/id`), `${ev.id}\n`);
  const format = ok(`cat ${d}/events/${sys}/req/format`);
  assertMatch(format, new RegExp(`^name: req\\nID: ${ev.id}\\nformat:\\n\\tfield:unsigned short common_type;`));
  assertMatch(format, /field:__data_loc char\[\] method;/);
  assertMatch(format, /print fmt: "method=%s status=%u", __get_str\(method\), REC->status\n$/);
  assertMatch(ok(`cat ${d}/events/header_page`), /field: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;/);
  assertMatch(ok(`cat ${d}/events/header_event`), /type_len {4}: {4}5 bits/);
  assertMatch(ok(`cat ${d}/available_events`), new RegExp(`^${sys}:req$`, 'm'));
  assert.doesNotMatch(ok(`cat ${d}/available_events`), /^ftrace:/m);
  // Listing order (ls -f: unsorted) is the kernel's: the table's files, then child directories as created.
  const list = (p: string) => ok(`ls -f ${p}`).trim().split('\n').slice(2);
  assert.deepEqual(list(`${d}/events/${sys}/req`), ['enable', 'filter', 'trigger', 'format', 'id', 'hist', 'inject']);
  assert.deepEqual(list(`${d}/events/${sys}`), ['enable', 'filter', 'req']);
  assert.deepEqual(list(`${d}/events`).slice(0, 3), ['enable', 'header_page', 'header_event']);
  assert.deepEqual(list(`${d}/events/ftrace/print`), ['format', 'id']);
  assert.deepEqual(list(`${d}/events/ftrace`), ['kernel_stack', 'print', 'raw_data']);
  const modes = ok(`cd ${d}/events/${sys}/req && stat -c '%n %a' *`).trim().split('\n');
  assert.deepEqual(modes, [
    'enable 640',
    'filter 640',
    'format 440',
    'hist 440',
    'id 440',
    'inject 200',
    'trigger 640',
  ]);
  assert.equal(ok(`stat -c %a ${d}/events/${sys} ${d}/events/${sys}/req`), '755\n755\n');
});

test('constant files (format, id, header_*, README, available_tracers) report their real size; changing ones 0', async (t) => {
  const sys = uniqueSystem('size');
  defineEvent(sys, 'req', { method: 'string', status: 'u16' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  const constant = [
    `events/${sys}/req/format`,
    `events/${sys}/req/id`,
    'events/ftrace/print/format',
    'events/header_page',
    'events/header_event',
    'README',
    'available_tracers',
    'saved_tgids',
  ];
  for (const f of constant) {
    const size = Number(ok(`stat -c %s ${d}/${f}`).trim());
    const length = Number(ok(`wc -c < ${d}/${f}`).trim());
    assert.ok(length > 0, f);
    assert.equal(size, length, `${f}: stat size is the content's length`);
    // Served from the page cache after the first read: still the whole content, every time.
    assert.equal(Number(ok(`cat ${d}/${f} ${d}/${f} | wc -c`).trim()), 2 * length, f);
  }
  // Files whose content changes keep size 0 (as in the kernel) and are read fresh after each change.
  for (const f of [`events/${sys}/req/enable`, 'tracing_on', 'buffer_size_kb', 'available_events']) {
    assert.equal(ok(`stat -c %s ${d}/${f}`).trim(), '0', f);
  }
  for (const v of ['0', '1', '0', '1']) {
    ok(`echo ${v} > ${d}/tracing_on && echo ${v} > ${d}/events/${sys}/req/enable`);
    assert.equal(ok(`cat ${d}/tracing_on`), `${v}\n`);
    assert.equal(ok(`cat ${d}/events/${sys}/req/enable`), `${v}\n`);
  }
  ok(`echo 0 > ${d}/events/${sys}/req/enable`);
  const later = uniqueSystem('later');
  defineEvent(later, 'ev', { v: 'u32' });
  assertMatch(ok(`cat ${d}/available_events`), new RegExp(`^${later}:ev$`, 'm'));
});

test('filter, trigger, hist and inject files answer through the control hooks', async (t) => {
  const sys = uniqueSystem('ctl');
  defineEvent(sys, 'e', { v: 'u32', s: 'string' });
  defineEvent(sys, 'f', { v: 'u32' });
  defineEvent(sys, 'g', { v: 'u32' });
  const m = await mountTracefs(t);
  const e = `${m.mountpoint}/events/${sys}/e`;
  assert.equal(ok(`cat ${e}/filter`), 'none\n');
  ok(`echo 'v > 3' > ${e}/filter`);
  assert.equal(ok(`cat ${e}/filter`), 'v > 3\n');
  ok(`echo 0 > ${e}/filter`);
  assert.equal(ok(`cat ${e}/filter`), 'none\n');
  assertMatch(ok(`cat ${m.mountpoint}/events/${sys}/filter`), /^### global filter ###/);
  assert.equal(ok(`cat ${e}/trigger`), AVAILABLE_TRIGGERS_TEXT);
  ok(`echo traceoff:3 > ${e}/trigger`);
  assert.equal(ok(`cat ${e}/trigger`), 'traceoff:count=3\n');
  ok(`: > ${e}/trigger`); // O_TRUNC removes hist triggers only, as in the kernel
  assert.equal(ok(`cat ${e}/trigger`), 'traceoff:count=3\n');
  ok(`echo '!traceoff' >> ${e}/trigger`);
  assertMatch(ok(`cat ${e}/trigger`), /^# Available triggers:/);
  assert.equal(ok(`cat ${e}/hist`), '');
  ok(`echo 'hist:keys=v' > ${e}/trigger`);
  assertMatch(
    ok(`cat ${e}/hist`),
    /^# event histogram\n#\n# trigger info: hist:keys=v:vals=hitcount:sort=hitcount:size=2048 \[active\]\n/,
  );
  assertMatch(ok(`cat ${e}/hist`), /Totals:\n {4}Hits: 0\n {4}Entries: 0\n {4}Dropped: 0\n/);
  assert.notEqual(sh(`echo 'hist:keys=nosuch' >> ${e}/trigger`).code, 0);
  assertMatch(
    ok(`cat ${m.mountpoint}/error_log`),
    /hist:\w+:e: error: Couldn't find field\n {2}Command: hist:keys=nosuch\n/,
  );
  ok(`: > ${e}/trigger`); // O_TRUNC removes the hist trigger
  assert.equal(ok(`cat ${e}/hist`), '');
  assert.deepEqual(
    py(`
t(lambda: w('${e}/inject', b'nosuch=1'))
t(lambda: w('${e}/inject', b'v=x'))
t(lambda: w('${e}/trigger', b'bogus'))
t(lambda: open('${e}/inject').read())
`),
    ['ENOENT', 'EINVAL', 'EINVAL', 'EINVAL'],
  );
  // A trigger holds its event and an enable_event target in soft mode: their enable files show `0*`.
  ok(`echo 'enable_event:${sys}:f' > ${e}/trigger`);
  assert.equal(ok(`cat ${e}/enable ${m.mountpoint}/events/${sys}/f/enable`), '0*\n0*\n');
  const g = `${m.mountpoint}/events/${sys}/g/trigger`;
  ok(`echo 'disable_event:${sys}:f' > ${g}`); // a second holder of f
  ok(`echo '!enable_event:${sys}:f' >> ${e}/trigger`);
  assert.equal(ok(`cat ${e}/enable ${m.mountpoint}/events/${sys}/f/enable`), '0\n0*\n', 'still held by g');
  ok(`echo '!disable_event:${sys}:f' >> ${g}`);
  assert.equal(ok(`cat ${m.mountpoint}/events/${sys}/f/enable`), '0\n');
  // inject fires the event as if the application had.
  ok(`echo 1 > ${e}/enable`);
  ok(`echo 'v=42 s="from the shell"' > ${e}/inject`);
  assertMatch(ok(`cat ${m.mountpoint}/trace`), /e: v=42 s=from the shell$/m);
});

test('events defined and removed at run time appear and vanish at once, in every instance', async (t) => {
  const sys = uniqueSystem('live');
  const keep = defineEvent(sys, 'keep', { v: 'u32' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  ok(`mkdir ${d}/instances/rt`);
  t.after(() => sh(`rmdir ${d}/instances/rt`));
  assert.deepEqual(readdirSync(`${d}/events/${sys}`), ['enable', 'filter', 'keep']);
  // Cached listings must not hide the new event: list, define, list again.
  ok(`ls ${d}/events ${d}/events/${sys} ${d}/instances/rt/events/${sys}`);
  const late = defineEvent(sys, 'late', { v: 'u32' });
  const newSys = uniqueSystem('new');
  const other = defineEvent(newSys, 'x', { v: 'u32' });
  // The engine rings the mount's doorbell at the definition; the tree grows and the kernel's caches are
  // invalidated within milliseconds (the bound here is only a liveness bound).
  const listed = (dir: string, name: string) => ok(`ls ${dir}`).split('\n').includes(name);
  assert.ok(await eventually(() => listed(`${d}/events/${sys}`, 'late'), 2000), 'late listed');
  assert.ok(await eventually(() => listed(`${d}/instances/rt/events/${sys}`, 'late'), 2000), 'late in the instance');
  assert.ok(await eventually(() => listed(`${d}/events`, newSys), 2000), 'new system listed');
  assert.equal(ok(`ls ${d}/events/${sys}`), 'enable\nfilter\nkeep\nlate\n');
  assertMatch(ok(`cat ${d}/available_events`), new RegExp(`^${sys}:late$`, 'm'));
  ok(`echo 1 > ${d}/events/${sys}/late/enable`);
  late.emit({ v: 5 });
  assertMatch(ok(`cat ${d}/trace`), /late: v=5/);

  // Removal while a file is open: it answers ENODEV; the directory and (with its last event) the system go.
  const afterRemoval = await whileOpen(
    `${d}/events/${newSys}/x/format`,
    'os.open(P, os.O_RDONLY)',
    () => {
      other.remove();
      keep.remove();
    },
    'os.read(fd, 100)',
  );
  assert.equal(afterRemoval, 'ENODEV');
  assert.ok(await eventually(() => !listed(`${d}/events/${sys}`, 'keep'), 2000), 'keep unlisted');
  assert.deepEqual(readdirSync(`${d}/events/${sys}`), ['enable', 'filter', 'late']);
  assert.ok(await eventually(() => !listed(`${d}/events`, newSys), 2000), 'system gone with its last event');
  assert.ok(await eventually(() => !listed(`${d}/instances/rt/events`, newSys), 2000), 'gone from the instance');
  assert.equal(sh(`cat ${d}/events/${newSys}/x/id`).code !== 0, true);
  assert.doesNotMatch(ok(`cat ${d}/available_events`), new RegExp(`^${newSys}:x$`, 'm'));
  // Records of a removed event still print (an enabled event cannot be removed: EBUSY, so disable it first).
  assert.throws(() => late.remove(), { code: 'EBUSY' });
  ok(`echo 0 > ${d}/events/${sys}/late/enable`);
  late.remove();
  assertMatch(ok(`cat ${d}/trace`), /late: v=5/);
});

test('an event defined after an instance was made still appears (the wake-up is re-armed)', async (t) => {
  const sys = uniqueSystem('rearm');
  defineEvent(sys, 'first', { v: 'u32' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  assert.equal(ok(`ls ${d}/events/${sys}`), 'enable\nfilter\nfirst\n'); // now cached by the kernel
  ok(`mkdir ${d}/instances/re`);
  t.after(() => sh(`rmdir ${d}/instances/re`));
  await new Promise((r) => setTimeout(r, 100));
  defineEvent(sys, 'second', { v: 'u32' });
  const listed = () => ok(`ls ${d}/events/${sys}`).split('\n').includes('second');
  assert.ok(await eventually(listed, 2000), 'second listed without any other request');
});

test('a filter written through the mount is applied by the emitting thread; snapshot swaps the buffer', async (t) => {
  const sys = uniqueSystem('applied');
  const ev = defineEvent(sys, 'e', { v: 'u32' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  ok(`echo 'v > 3' > ${d}/events/${sys}/e/filter; echo 1 > ${d}/events/${sys}/e/enable`);
  t.after(() => sh(`echo 0 > ${d}/events/${sys}/e/filter; echo 0 > ${d}/snapshot`));
  for (let v = 1; v <= 6; v++) ev.emit({ v });
  const trace = ok(`cat ${d}/trace`);
  assert.deepEqual(trace.match(/ e: v=\d/g), [' e: v=4', ' e: v=5', ' e: v=6']);
  ok(`echo 1 > ${d}/snapshot`);
  assertMatch(ok(`cat ${d}/snapshot`), / e: v=6$/m);
  assert.doesNotMatch(ok(`cat ${d}/trace`), / e: v=/, 'the live buffer was swapped out');
});
