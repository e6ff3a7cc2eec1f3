/**
 * trace_pipe through the mount (the kernel selftest's trace_pipe checks re-targeted): consuming reads, blocking until
 * an emit in another thread wakes it, EAGAIN with O_NONBLOCK, poll, partial reads, interruption — and the whole
 * filesystem answering while the main thread is stuck.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { TOP_INSTANCE, writeMarker } from '../../src/trace/engine.js';
import { defineEvent } from '../../src/trace/event.js';
import { assertMatch, background, delay, mountTracefs, ok, py, uniqueSystem } from './helpers.js';

test('a blocked reader is woken by an emit from the main thread and from a worker', async (t) => {
  const sys = uniqueSystem('pipe');
  const ev = defineEvent(sys, 'wake', { n: 'u32' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  ok(`echo 1 > ${d}/events/${sys}/wake/enable`);
  const reader = background(`head -n 1 ${d}/trace_pipe`);
  t.after(() => reader.kill());
  await delay(300); // the read is parked by now
  ev.emit({ n: 1 });
  const r = await reader.done;
  assert.equal(r.code, 0, r.err);
  assertMatch(r.out, /wake: n=1\n$/);

  const reader2 = background(`head -n 1 ${d}/trace_pipe`);
  t.after(() => reader2.kill());
  await delay(300);
  const w = new Worker(
    `const { workerData } = require('node:worker_threads');
     import(workerData.url).then(({ defineEvent }) => {
       defineEvent(workerData.sys, 'wake', { n: 'u32' }).emit({ n: 2 });
     });`,
    { eval: true, workerData: { url: new URL('../../src/trace/event.js', import.meta.url).href, sys } },
  );
  await new Promise((resolve) => w.once('exit', resolve));
  const r2 = await reader2.done;
  assert.equal(r2.code, 0, r2.err);
  assertMatch(r2.out, /wake: n=2\n$/);
});

test('O_NONBLOCK on an empty pipe is EAGAIN; poll blocks, then wakes on data', async (t) => {
  const sys = uniqueSystem('poll');
  const ev = defineEvent(sys, 'p', { n: 'u32' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  ok(`echo 1 > ${d}/events/${sys}/p/enable`);
  const out = py(`
fd = os.open('${d}/trace_pipe', os.O_RDONLY | os.O_NONBLOCK)
t(lambda: os.read(fd, 100))
p = select.poll(); p.register(fd, select.POLLIN)
print(len(p.poll(200)))
`);
  assert.deepEqual(out, ['EAGAIN', '0']);
  const poller = background(
    `python3 -c "
import os, select, time
fd = os.open('${d}/trace_pipe', os.O_RDONLY | os.O_NONBLOCK)
p = select.poll(); p.register(fd, select.POLLIN)
t0 = time.time(); r = p.poll(10000)
print(len(r), round(time.time() - t0, 1) < 9, os.read(fd, 4096).decode().strip().split(': ')[-1])
"`,
  );
  t.after(() => poller.kill());
  await delay(400);
  ev.emit({ n: 9 });
  const r = await poller.done;
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.trim(), '1 True n=9');
});

test('reads of any size continue mid-line; records are consumed once', async (t) => {
  const sys = uniqueSystem('part');
  const ev = defineEvent(sys, 'line', { n: 'u32', s: 'string' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  ok(`echo 1 > ${d}/events/${sys}/line/enable`);
  for (let i = 0; i < 20; i++) ev.emit({ n: i, s: 'x'.repeat(i * 3) });
  const out = py(`
fd = os.open('${d}/trace_pipe', os.O_RDONLY | os.O_NONBLOCK)
buf = b''
while True:
    try:
        chunk = os.read(fd, 7)
    except BlockingIOError:
        break
    if not chunk: break
    buf += chunk
print(buf.count(b'\\n'))
print(all(l.decode().split(': line: ')[1] == 'n=%d s=%s' % (i, 'x' * i * 3) for i, l in enumerate(buf.splitlines())))
`);
  assert.deepEqual(out, ['20', 'True']);
  assert.doesNotMatch(ok(`cat ${d}/trace`), /line: n=/);
});

test('an interrupted reader returns at once (timeout -s INT)', async (t) => {
  const m = await mountTracefs(t);
  const started = Date.now();
  const r = await background(`timeout -s INT 0.5 cat ${m.mountpoint}/trace_pipe; echo rc=$?`).done;
  assertMatch(r.out, /rc=124/);
  assert.ok(Date.now() - started < 5000, 'not stuck');
});

test('trace and trace_pipe answer while the main thread is stuck', async (t) => {
  const sys = uniqueSystem('stuck');
  const ev = defineEvent(sys, 's', { n: 'u32' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  ok(`echo 1 > ${d}/events/${sys}/s/enable`);
  ev.emit({ n: 77 });
  const reader = background(
    `sleep 0.3; a=$(date +%s%N); cat ${d}/trace > /tmp/ntrace-stuck-$$; head -n1 ${d}/trace_pipe; b=$(date +%s%N); echo ms=$(( (b - a) / 1000000 )); grep -c 's: n=77' /tmp/ntrace-stuck-$$; rm -f /tmp/ntrace-stuck-$$`,
  );
  t.after(() => reader.kill());
  const until = Date.now() + 2500;
  while (Date.now() < until) {} // the application's main thread spins
  const r = await reader.done;
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  assertMatch(lines[0], /s: n=77$/);
  const ms = Number(lines[1].slice(3));
  assert.ok(ms < 1000, `answered in ${ms} ms while the main thread spun`); // a liveness bound, not a benchmark
  assert.equal(lines[2], '1');
});

test('per_cpu trace_pipe_raw hands out ring pages in the kernel layout, consuming; EAGAIN when empty', async (t) => {
  const sys = uniqueSystem('raw');
  const ev = defineEvent(sys, 'r', { n: 'u32' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  ok(`echo 1 > ${d}/events/${sys}/r/enable`);
  for (let i = 0; i < 10; i++) ev.emit({ n: i });
  const cpu = ok(`grep -l '^entries: 10$' ${d}/per_cpu/cpu*/stats`).trim().split('/').at(-2);
  assert.ok(cpu, 'the main thread has a CPU with the 10 records');
  const out = py(`
import struct
fd = os.open('${d}/per_cpu/${cpu}/trace_pipe_raw', os.O_RDONLY | os.O_NONBLOCK)
page = os.read(fd, 4096)
ts, commit = struct.unpack_from('<QQ', page, 0)
print(len(page), ts > 0, commit & 0xfffff > 0)
t(lambda: os.read(fd, 4096))
`);
  assert.deepEqual(out, ['4096 True True', 'EAGAIN']);
  assert.doesNotMatch(ok(`cat ${d}/per_cpu/${cpu}/trace`), /r: n=/, 'consumed');
});

test('per_cpu trace_pipe_raw: a read larger than a page returns as many whole pages as fit', async (t) => {
  const sys = uniqueSystem('rawmany');
  const ev = defineEvent(sys, 'r', { n: 'u32' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  ok(`echo 1 > ${d}/events/${sys}/r/enable`);
  for (let i = 0; i < 3000; i++) ev.emit({ n: i });
  const cpu = ok(`grep -l '^entries: 3000$' ${d}/per_cpu/cpu*/stats`).trim().split('/').at(-2);
  assert.ok(cpu, 'the main thread has a CPU with the 3000 records');
  const out = py(`
import struct
fd = os.open('${d}/per_cpu/${cpu}/trace_pipe_raw', os.O_RDONLY | os.O_NONBLOCK)
one = os.read(fd, 6000)
many = os.read(fd, 65536)
pages = [many[i:i + 4096] for i in range(0, len(many), 4096)]
print(len(one), len(many) % 4096, len(pages) > 1, all(struct.unpack_from('<QQ', p, 0)[0] > 0 and struct.unpack_from('<QQ', p, 0)[1] & 0xfffff > 0 for p in pages))
rest = b''
while True:
    try:
        b = os.read(fd, 65536)
    except BlockingIOError:
        break
    rest += b
# Every record, in order, from the pages: the n fields after the 8 bytes of common fields.
ns = []
for p in [one] + [(many + rest)[i:i + 4096] for i in range(0, len(many + rest), 4096)]:
    end = 16 + (struct.unpack_from('<Q', p, 8)[0] & 0xfffff)
    off = 16
    while off < end:
        hdr = struct.unpack_from('<I', p, off)[0]
        kind = hdr & 31
        if kind in (30, 31):
            off += 8
            continue
        if kind == 29:
            break
        length, data = (struct.unpack_from('<I', p, off + 4)[0] - 4, off + 8) if kind == 0 else (kind * 4, off + 4)
        ns.append(struct.unpack_from('<I', p, data + 8)[0])
        off = data + length
print(ns == list(range(3000)), len(ns))
`);
  assert.deepEqual(out, ['4096 0 True True', 'True 3000']);
});

test('O_NONBLOCK set by fcntl after open counts at the next read (trace-cmd opens trace_pipe_raw, then sets it)', async (t) => {
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  const out = py(`
import fcntl
fd = os.open('${d}/per_cpu/cpu0/trace_pipe_raw', os.O_RDONLY)
fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
t(lambda: os.read(fd, 4096))
fd2 = os.open('${d}/trace_pipe', os.O_RDONLY)
fcntl.fcntl(fd2, fcntl.F_SETFL, os.O_NONBLOCK)
t(lambda: os.read(fd2, 4096))
`);
  assert.deepEqual(out, ['EAGAIN', 'EAGAIN']);
});

test('trace_pipe: 64 KiB reads return whole lines, the same bytes as trace shows, line for line', async (t) => {
  const sys = uniqueSystem('bulk');
  const ev = defineEvent(sys, 'mixed', { n: 'u32', s: 'string' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  ok(`echo 1 > ${d}/events/${sys}/mixed/enable`);
  // Lines of many lengths and some multi-byte text, far more than one read holds.
  for (let i = 0; i < 3000; i++) {
    if (i % 3 === 0) writeMarker(TOP_INSTANCE, `marker ${i} ${'x'.repeat(i % 200)}`);
    else ev.emit({ n: i, s: i % 7 === 0 ? `é€ ${i}` : 'y'.repeat(i % 300) });
  }
  const shown = ok(`cat ${d}/trace`)
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'));
  assert.ok(shown.length >= 3000, `trace shows ${shown.length} lines`);
  const out = py(`
fd = os.open('${d}/trace_pipe', os.O_RDONLY | os.O_NONBLOCK)
chunks = []
while True:
    try:
        b = os.read(fd, 65536)
    except BlockingIOError:
        break
    if not b:
        break
    chunks.append(b)
print(len(chunks), all(c.endswith(b'\\n') and len(c) <= 65536 for c in chunks), max(len(c) for c in chunks) > 4096)
sys.stdout.flush()
sys.stdout.buffer.write(b''.join(chunks))
`);
  assert.equal(out[0], `${out[0].split(' ')[0]} True True`, 'whole lines in each read, reads beyond a page');
  assert.ok(Number(out[0].split(' ')[0]) > 1, 'several reads');
  const piped = out.slice(1).filter((l) => l !== '');
  assert.deepEqual(piped.slice(-shown.length), shown, 'trace_pipe gives what trace showed, byte for byte');
});
