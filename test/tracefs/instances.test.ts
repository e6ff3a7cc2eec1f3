/**
 * instances/: mkdir and rmdir with the kernel's rules (names, EBUSY while busy files are open, ENODEV/EINVAL for
 * stale handles), isolation of buffers and enable state, and the concurrent mkdir/rmdir stress of the kernel
 * selftest (10 s by default, 60 s with NTRACE_STRESS=full).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineEvent } from '../../src/trace/event.js';
import { assertMatch, background, mountTracefs, ok, py, sh, uniqueSystem, whileOpen } from './helpers.js';

test('mkdir makes a full instance; names follow the kernel rules; nested mkdir is EPERM', async (t) => {
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  ok(`mkdir ${d}/instances/foo`);
  t.after(() => sh(`rmdir ${d}/instances/foo`));
  const files = ok(`ls ${d}/instances/foo`).trim().split('\n');
  assert.deepEqual(files, [
    'available_tracers',
    'buffer_size_kb',
    'buffer_total_size_kb',
    'current_tracer',
    'error_log',
    'events',
    'free_buffer',
    'options',
    'per_cpu',
    'set_event',
    'snapshot',
    'timestamp_mode',
    'trace',
    'trace_clock',
    'trace_marker',
    'trace_marker_raw',
    'trace_options',
    'trace_pipe',
    'tracing_on',
  ]);
  assert.equal(ok(`stat -c %a ${d}/instances/foo`), '750\n');
  const long255 = 'a'.repeat(255);
  const out = py(`
t(lambda: os.mkdir('${d}/instances/foo'))
t(lambda: os.mkdir('${d}/instances/.'))
t(lambda: os.mkdir('${d}/instances/..'))
t(lambda: os.mkdir('${d}/instances/foo/bar'))
t(lambda: os.mkdir('${d}/instances/foo/events/x'))
t(lambda: os.mkdir('${d}/instances/${'b'.repeat(256)}'))
t(lambda: os.mkdir('${d}/instances/${long255}'))
print(os.path.isdir('${d}/instances/${long255}/events'))
t(lambda: os.rmdir('${d}/instances/${long255}'))
t(lambda: os.rmdir('${d}/instances/nosuch'))
t(lambda: os.rmdir('${d}/instances/foo/events'))
`);
  assert.deepEqual(out, [
    'EEXIST',
    'EEXIST',
    'EEXIST',
    'EPERM',
    'EPERM',
    'ENAMETOOLONG',
    'OK',
    'True',
    'OK',
    'ENOENT',
    'EPERM',
  ]);
});

test('instances have their own buffers and enable state', async (t) => {
  const sys = uniqueSystem('iso');
  const ev = defineEvent(sys, 'e', { n: 'u32' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  ok(`mkdir ${d}/instances/a ${d}/instances/b`);
  t.after(() => sh(`rmdir ${d}/instances/a ${d}/instances/b`));
  ok(`echo 1 > ${d}/instances/a/events/${sys}/e/enable`);
  assert.equal(ok(`cat ${d}/events/${sys}/e/enable ${d}/instances/b/events/${sys}/e/enable`), '0\n0\n');
  ev.emit({ n: 5 });
  assertMatch(ok(`cat ${d}/instances/a/trace`), /e: n=5/);
  assert.doesNotMatch(ok(`cat ${d}/trace ${d}/instances/b/trace`), /e: n=5/);
  ok(`echo hi-b > ${d}/instances/b/trace_marker`);
  assertMatch(ok(`cat ${d}/instances/b/trace`), /tracing_mark_write: hi-b/);
  assert.doesNotMatch(ok(`cat ${d}/instances/a/trace`), /hi-b/);
  ok(`echo 0 > ${d}/instances/a/tracing_on`);
  assert.equal(ok(`cat ${d}/tracing_on ${d}/instances/a/tracing_on`), '1\n0\n');
  ok(`echo ${sys}:e > ${d}/instances/b/set_event`);
  assert.equal(ok(`cat ${d}/instances/b/set_event`), `${sys}:e\n`);
  assert.equal(ok(`cat ${d}/set_event`), '');
  const pipe = background(`head -n1 ${d}/instances/b/trace_pipe`);
  t.after(() => pipe.kill());
  await new Promise((r) => setTimeout(r, 200));
  ev.emit({ n: 6 });
  assertMatch((await pipe.done).out, /tracing_mark_write: hi-b|e: n=6/);
});

test('rmdir is EBUSY while a busy file is open, and succeeds with format/trigger/id/options or dirs open', async (t) => {
  const sys = uniqueSystem('busy');
  defineEvent(sys, 'e', { n: 'u32' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  const inst = `${d}/instances/x`;
  const busy = [
    'trace',
    'trace_pipe',
    'tracing_on',
    'set_event',
    'error_log',
    'per_cpu/cpu0/trace',
    'per_cpu/cpu0/stats',
    'events/enable',
    `events/${sys}/enable`,
    `events/${sys}/e/enable`,
    `events/${sys}/filter`,
    `events/${sys}/e/filter`,
    'events/header_page',
  ];
  ok(`echo make cpu0 > ${d}/trace_marker`);
  ok(`mkdir ${inst}`);
  // The kernel's busy files: rmdir answers EBUSY while one is open.
  for (const f of busy) {
    let r = '';
    await whileOpen(
      `${inst}/${f}`,
      'os.open(P, os.O_RDONLY)',
      () => {
        r = py(`t(lambda: os.rmdir('${inst}'))`)[0];
      },
      'None',
    );
    assert.equal(r, 'EBUSY', f);
  }
  assert.equal(py(`t(lambda: os.rmdir('${inst}'))`)[0], 'OK', 'removable once they are closed');
  // Not busy: the instance goes, the open file answers ENODEV, an open directory lists with EINVAL.
  for (const [f, open, after] of [
    [`events/${sys}/e/format`, 'os.open(P, os.O_RDONLY)', 'os.read(fd, 100)'],
    [`events/${sys}/e/trigger`, 'os.open(P, os.O_RDONLY)', 'os.read(fd, 100)'],
    [`events/${sys}/e/id`, 'os.open(P, os.O_RDONLY)', 'os.read(fd, 100)'],
    ['options/raw', 'os.open(P, os.O_RDONLY)', 'os.read(fd, 100)'],
    ['events', 'os.open(P, os.O_RDONLY)', 'os.listdir(fd)'],
  ] as const) {
    sh(`mkdir ${inst}`);
    let r = '';
    const answer = await whileOpen(
      `${inst}/${f}`,
      open,
      () => {
        r = py(`t(lambda: os.rmdir('${inst}'))`)[0];
      },
      after,
    );
    assert.equal(r, 'OK', `rmdir with ${f} open`);
    assert.equal(answer, f === 'events' ? 'EINVAL' : 'ENODEV', f);
  }
  assert.equal(sh(`ls ${d}/instances`).out, '');
});
