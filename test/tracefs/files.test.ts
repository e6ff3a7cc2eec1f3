/** Every top-level file through the mount, with the kernel's modes, contents and errnos. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { defineEvent } from '../../src/trace/event.js';
import { eventually } from '../support/mount.js';
import { assertMatch, background, mountTracefs, ok, py, sh, uniqueSystem } from './helpers.js';

test('top-level layout and modes are the kernel defaults', async (t) => {
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  const modes = Object.fromEntries(
    ok(`cd ${d} && stat -c '%n %a' * per_cpu/cpu0/* options/overwrite 2>/dev/null || stat -c '%n %a' *`)
      .trim()
      .split('\n')
      .map((l) => l.split(' ')),
  );
  const expected: Record<string, string> = {
    README: '440',
    available_events: '440',
    available_tracers: '440',
    buffer_size_kb: '640',
    buffer_total_size_kb: '440',
    current_tracer: '640',
    error_log: '640',
    events: '755',
    free_buffer: '200',
    instances: '750',
    options: '750',
    per_cpu: '750',
    printk_formats: '440',
    saved_cmdlines: '440',
    saved_tgids: '440',
    set_event: '640',
    timestamp_mode: '440',
    trace: '640',
    trace_clock: '640',
    trace_marker: '220',
    trace_marker_raw: '220',
    trace_options: '640',
    trace_pipe: '440',
    tracing_on: '640',
  };
  for (const [name, mode] of Object.entries(expected)) assert.equal(modes[name], mode, name);
  assert.equal(ok(`stat -c %a ${d}`).trim(), '700');
  assert.equal(ok(`stat -c %a ${d}/options/overwrite`).trim(), '640');
});

test('README describes the mount options line and what is supported', async (t) => {
  const m = await mountTracefs(t);
  const readme = ok(`cat ${m.mountpoint}/README`);
  assert.match(readme, /^tracing mini-HOWTO/);
  assert.match(readme, /\[uid=<uid>\] \[gid=<gid>\] \[mode=<mode>\]/);
  assert.match(readme, /\[gid=<gid>\]/); // what the kernel selftests `require`
  assert.match(readme, /trace_pipe\t\t- A consuming read/);
  assert.doesNotMatch(readme, /kprobe|set_ftrace_filter/);
});

test('tracer, clock, timestamp_mode, tracing_on, buffer sizes', async (t) => {
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  ok(`echo cpu0 exists once something was written > ${d}/trace_marker`);
  assert.equal(ok(`cat ${d}/available_tracers`), 'nop\n');
  assert.equal(ok(`cat ${d}/current_tracer`), 'nop\n');
  ok(`echo nop > ${d}/current_tracer`);
  assert.equal(ok(`cat ${d}/timestamp_mode`), '[delta] absolute\n');
  assert.equal(ok(`cat ${d}/trace_clock`), '[local] global counter uptime mono mono_raw boot\n');
  ok(`echo global > ${d}/trace_clock`);
  assert.equal(ok(`cat ${d}/trace_clock`), 'local [global] counter uptime mono mono_raw boot\n');
  ok(`echo local > ${d}/trace_clock`);
  assert.equal(ok(`cat ${d}/tracing_on`), '1\n');
  const out = py(`
t(lambda: w('${d}/current_tracer', b'function'))
t(lambda: w('${d}/trace_clock', b'nosuch'))
t(lambda: w('${d}/tracing_on', b'x'))
t(lambda: w('${d}/tracing_on', b' 1'))
t(lambda: w('${d}/tracing_on', b'0'))
print(open('${d}/tracing_on').read().strip())
t(lambda: w('${d}/tracing_on', b'2\\n'))
print(open('${d}/tracing_on').read().strip())
t(lambda: w('${d}/buffer_size_kb', b'0'))
t(lambda: w('${d}/buffer_size_kb', b'abc'))
t(lambda: w('${d}/buffer_size_kb', b'64\\n'))
print(open('${d}/buffer_size_kb').read().strip())
print(open('${d}/per_cpu/cpu0/buffer_size_kb').read().strip())
t(lambda: w('${d}/buffer_total_size_kb', b'1', os.O_WRONLY))
`);
  assert.deepEqual(out, [
    'EINVAL',
    'EINVAL',
    'EINVAL',
    'EINVAL',
    '1',
    '0',
    '2',
    '1',
    'EINVAL',
    'EINVAL',
    '3',
    '64',
    '64',
    'EINVAL', // root opens a read-only file for writing (as in the kernel); the write has no handler
  ]);
  assert.match(ok(`cat ${d}/buffer_total_size_kb`), /^\d+\n$/);
});

test('trace_marker writes ftrace:print; refused with EBADF while tracing is off; trace_marker_raw', async (t) => {
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  ok(`echo hello marker > ${d}/trace_marker`);
  // The writer's name and pid, as the kernel shows them (sh's builtin echo wrote it).
  assertMatch(ok(`cat ${d}/trace`), /^ +sh-\d+ +\[\d{3}\] \S+ +\d+\.\d{6}: tracing_mark_write: hello marker$/m);
  const out = py(`
t(lambda: w('${d}/trace_marker_raw', b'ab'))
t(lambda: w('${d}/trace_marker_raw', b'\\x01\\x00\\x00\\x00xyz'))
w('${d}/tracing_on', b'0')
t(lambda: w('${d}/trace_marker', b'off'))
w('${d}/tracing_on', b'1')
w('${d}/options/markers', b'0')
t(lambda: w('${d}/trace_marker', b'off'))
w('${d}/options/markers', b'1')
t(lambda: w('${d}/trace_marker', b'x' * 10000))
t(lambda: open('${d}/trace_marker').read())
`);
  assert.equal(out[0], 'EINVAL');
  assert.equal(out[1], '7');
  assert.equal(out[2], 'EBADF');
  assert.equal(out[3], 'EINVAL', 'markers option off');
  assert.ok(Number(out[4]) > 3000 && Number(out[4]) < 10000, `short count for a long marker: ${out[4]}`);
  assert.equal(out[5], 'EINVAL', 'root may open trace_marker for reading; the read has no handler');
  assertMatch(ok(`cat ${d}/trace`), /buf: 78 79 7a$/m);
});

test('trace: O_TRUNC clears, per_cpu trace and stats, saved_cmdlines', async (t) => {
  const sys = uniqueSystem('files');
  const ev = defineEvent(sys, 'tick', { n: 'u32' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  ok(`echo 1 > ${d}/events/${sys}/tick/enable`);
  for (let i = 0; i < 5; i++) ev.emit({ n: i });
  const trace = ok(`cat ${d}/trace`);
  assertMatch(trace, /entries-in-buffer\/entries-written: 5\/5 {3}#P:\d+/);
  assert.equal(trace.match(/tick: n=\d/g)?.length, 5);
  const cpus = ok(`ls ${d}/per_cpu`).trim().split('\n');
  assert.ok(cpus.includes('cpu0'), cpus.join(','));
  assert.deepEqual(ok(`ls ${d}/per_cpu/cpu0`).trim().split('\n'), [
    'buffer_size_kb',
    'stats',
    'trace',
    'trace_pipe',
    'trace_pipe_raw',
  ]);
  const perCpu = cpus.map((c) => ok(`cat ${d}/per_cpu/${c}/trace`)).join('');
  assert.equal(perCpu.match(/tick: n=\d/g)?.length, 5);
  const stats = cpus.map((c) => ok(`cat ${d}/per_cpu/${c}/stats`));
  assert.ok(
    stats.some((s) => /^entries: 5$/m.test(s)),
    stats.join('\n'),
  );
  assert.match(stats[0], /^overrun: \d+\ncommit overrun: \d+\nbytes: \d+\noldest event ts: /m);
  assert.match(ok(`cat ${d}/saved_cmdlines`), new RegExp(`^${process.pid} \\S+`, 'm'));
  // What trace-cmd reads besides: the tgid of every recorded pid, and no trace_printk formats.
  assert.equal(ok(`cat ${d}/saved_tgids`), `${process.pid} ${process.pid}\n`);
  assert.equal(ok(`cat ${d}/printk_formats`), '');
  assert.equal(ok(`cat ${d}/options/function-trace`), '1\n');
  ok(`echo 0 > ${d}/options/function-trace`);
  assert.match(ok(`cat ${d}/trace_options`), /^nofunction-trace$/m);
  ok(`echo 1 > ${d}/options/function-trace`);
  ok(`echo > ${d}/trace`);
  assert.doesNotMatch(ok(`cat ${d}/trace`), /tick:/);
  assertMatch(ok(`cat ${d}/trace`), /entries-in-buffer\/entries-written: 0\//);
});

test('trace: small reads, odd reads, large reads and a forward seek give the same bytes; trace_pipe the same lines', async (t) => {
  const sys = uniqueSystem('files');
  const ev = defineEvent(sys, 'tick', { n: 'u32' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  ok(`echo 1 > ${d}/events/${sys}/tick/enable`);
  // Many ring pages' worth, so that reads end at every place in lines, pages and the text's pieces.
  for (let i = 0; i < 4000; i++) ev.emit({ n: i });
  const whole = ok(`cat ${d}/trace`);
  assert.equal(whole.match(/tick: n=\d+\n/g)?.length, 4000);
  for (const bs of [97, 4096, 65536, 1 << 20])
    assert.equal(ok(`dd if=${d}/trace bs=${bs} status=none`), whole, `reads of ${bs}`);
  // A forward seek (the text in between is made and dropped) and reads of varying sizes.
  const [tail, mixed] = py(`
import os
fd = os.open('${d}/trace', os.O_RDONLY)
os.lseek(fd, 100000, os.SEEK_SET)
tail = b''
while True:
    b = os.read(fd, 5000)
    if not b: break
    tail += b
os.lseek(fd, 0, os.SEEK_SET)
mixed = b''
i = 0
while True:
    b = os.read(fd, [1, 4095, 7, 70000, 333][i % 5])
    i += 1
    if not b: break
    mixed += b
import hashlib
print(hashlib.sha256(tail).hexdigest())
print(hashlib.sha256(mixed).hexdigest())
`);
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  assert.equal(tail, sha(Buffer.from(whole).subarray(100000)), 'from offset 100000');
  assert.equal(mixed, sha(Buffer.from(whole)), 'reads of 1, 4095, 7, 70000, 333 bytes');
  // trace_pipe consumes the same records: the same lines without the header.
  const pipe = ok(`timeout 5 dd if=${d}/trace_pipe bs=65536 iflag=nonblock status=none; true`);
  assert.equal(pipe, whole.replace(/^#.*\n/gm, ''));
});

test('trace_options and options/ switch the output', async (t) => {
  const sys = uniqueSystem('opts');
  const ev = defineEvent(sys, 'e', { v: 'u32' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  const opts = ok(`cat ${d}/trace_options`);
  assert.match(opts, /^overwrite$/m);
  assert.match(opts, /^noraw$/m);
  assert.match(opts, /^context-info$/m);
  assert.equal(ok(`cat ${d}/options/context-info`), '1\n');
  ok(`echo 1 > ${d}/events/${sys}/e/enable`);
  ev.emit({ v: 7 });
  ok(`echo nocontext-info > ${d}/trace_options`);
  assert.equal(ok(`cat ${d}/options/context-info`), '0\n');
  assertMatch(ok(`cat ${d}/trace`), /^e: v=7$/m);
  ok(`echo 1 > ${d}/options/context-info`);
  assert.match(ok(`cat ${d}/trace_options`), /^context-info$/m);
  assert.deepEqual(
    py(`
t(lambda: w('${d}/trace_options', b'nosuch'))
t(lambda: w('${d}/options/raw', b'2'))
`),
    ['EINVAL', 'EINVAL'],
  );
});

test('error_log: O_TRUNC clears (filter errors land there)', async (t) => {
  const sys = uniqueSystem('elog');
  defineEvent(sys, 'e', { v: 'u32' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  assert.equal(ok(`cat ${d}/error_log`), '');
  const r = sh(`echo 'nosuchfield == 1' > ${d}/events/${sys}/e/filter`);
  assert.notEqual(r.code, 0);
  assert.match(
    ok(`cat ${d}/error_log`),
    /event filter parse error: error: Field not found\n {2}Command: nosuchfield == 1\n/,
  );
  ok(`echo > ${d}/error_log`);
  assert.equal(ok(`cat ${d}/error_log`), '');
});

test('create, unlink, rename, link, symlink, mknod and mkdir outside instances get the kernel errnos', async (t) => {
  const sys = uniqueSystem('errno');
  defineEvent(sys, 'e', { v: 'u32' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  const e = `${d}/events/${sys}/e`;
  const out = py(`
t(lambda: os.close(os.open('${d}/newf', os.O_CREAT|os.O_WRONLY)))
t(lambda: os.close(os.open('${e}/newf', os.O_CREAT|os.O_WRONLY)))
t(lambda: os.unlink('${d}/README'))
t(lambda: os.unlink('${e}/id'))
t(lambda: os.rename('${d}/README', '${d}/x'))
t(lambda: os.rename('${e}/id', '${e}/x'))
t(lambda: os.link('${d}/README', '${d}/y'))
t(lambda: os.symlink('a', '${d}/z'))
t(lambda: os.symlink('a', '${d}/events/z'))
t(lambda: os.mknod('${d}/p', 0o600|0o010000))
t(lambda: os.mkdir('${d}/dd'))
t(lambda: os.mkdir('${d}/events/dd'))
t(lambda: os.rmdir('${d}/events/${sys}'))
t(lambda: os.rmdir('${d}/options'))
`);
  assert.deepEqual(out, [
    'EACCES',
    'EACCES',
    'EPERM',
    'EPERM',
    'EPERM',
    'EPERM',
    'EPERM',
    'EPERM',
    'EPERM',
    'EPERM',
    'EPERM',
    'EPERM',
    'EPERM',
    'EPERM',
  ]);
});

test('closing free_buffer shrinks the buffers to the minimum; disable_on_free also stops tracing', async (t) => {
  const m = await mountTracefs(t);
  const i = `${m.mountpoint}/instances/fb`;
  ok(`mkdir ${i}`);
  t.after(() => sh(`rmdir ${i}`));
  ok(`echo before > ${i}/trace_marker`);
  const defaultKb = ok(`cat ${i}/buffer_size_kb`);
  assert.notEqual(defaultKb, '7\n');
  // Held open, nothing happens yet: the kernel frees on the last close (a tracer's exit).
  const held = background(`exec 3>${i}/free_buffer; sleep 0.5; cat ${i}/buffer_size_kb`);
  assert.equal((await held.done).out, defaultKb);
  // FUSE sends RELEASE after close(2) has returned: wait for it.
  const freed = () => eventually(() => ok(`cat ${i}/buffer_size_kb`) === '7\n', 2000);
  assert.ok(await freed(), 'buffer_size_kb reads 7 after free_buffer was closed');
  assert.doesNotMatch(ok(`cat ${i}/trace`), /before/);
  assert.equal(ok(`cat ${i}/tracing_on`), '1\n');
  ok(`echo 64 > ${i}/buffer_size_kb`);
  ok(`echo 1 > ${i}/options/disable_on_free`);
  ok(`: > ${i}/free_buffer`);
  assert.ok(await freed(), 'freed again');
  assert.equal(ok(`cat ${i}/tracing_on`), '0\n');
});
