/**
 * Requests that must wait: a reader of an empty pipe-like file is parked and answered when data comes (from a
 * writer through the mount, or from the tree's side through the doorbell), INTERRUPT answers it with EINTR, and
 * poll(2) blocks until NOTIFY_POLL. Also: the doorbell rung from another thread, and a main thread that spins.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { eventually, mountForTest } from '../support/mount.js';

interface Done {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

function start(cmd: string, args: string[]): { child: ChildProcess; done: Promise<Done> } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const done = once(child, 'close').then(([code, signal]) => ({ code, signal, out, err }) as Done);
  return { child, done };
}

/** Settles with 'pending' if `p` has not settled after `ms`. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([p, new Promise<'pending'>((r) => (timer = setTimeout(() => r('pending'), ms)))]);
  clearTimeout(timer);
  return r;
}

test('a reader blocked on the pipe is woken by a writer through the mount', async (t) => {
  const m = await mountForTest(t);
  const reader = start('head', ['-c', '6', `${m.mountpoint}/pipe`]);
  t.after(() => reader.child.kill('SIGKILL'));
  assert.ok(await eventually(() => m.stats().parked >= 1, 5000), 'the read was never parked');
  assert.equal(await within(reader.done, 200), 'pending', 'the read must wait for data');
  const w = spawnSync('sh', ['-c', `printf 'hello\\n' > ${m.mountpoint}/pipe`], { encoding: 'utf8' });
  assert.equal(w.status, 0, w.stderr);
  const r = await within(reader.done, 5000);
  assert.notEqual(r, 'pending');
  assert.deepEqual(r, { code: 0, signal: null, out: 'hello\n', err: '' });
});

test('a reader blocked on the pipe is woken from the tree side through the doorbell', async (t) => {
  const m = await mountForTest(t);
  const reader = start('head', ['-c', '5', `${m.mountpoint}/pipe`]);
  t.after(() => reader.child.kill('SIGKILL'));
  assert.ok(await eventually(() => m.stats().parked >= 1, 5000), 'the read was never parked');
  assert.equal(await within(reader.done, 200), 'pending');
  m.post({ type: 'push', text: 'data!' }); // post() rings the doorbell: the serving thread is blocked in read(2)
  const r = await within(reader.done, 5000);
  assert.notEqual(r, 'pending');
  assert.equal((r as Done).out, 'data!');
  assert.ok(m.stats().wakes >= 1);
});

test('timeout -s INT interrupts a parked read (INTERRUPT → EINTR) and the mount keeps serving', async (t) => {
  const m = await mountForTest(t);
  const began = Date.now();
  const r = spawnSync('timeout', ['-s', 'INT', '0.5', 'cat', `${m.mountpoint}/pipe`], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  const elapsed = Date.now() - began;
  assert.equal(r.status, 124, `timeout reports that it had to signal cat (stderr: ${r.stderr})`);
  assert.ok(elapsed < 5000, `cat ended ${elapsed} ms after start: the interrupt was answered`);
  assert.equal(m.stats().requests.INTERRUPT, 1);
  // Nothing left parked: data written now goes to a new reader.
  const w = spawnSync('sh', ['-c', `printf x > ${m.mountpoint}/pipe; head -c 1 ${m.mountpoint}/pipe`], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  assert.equal(w.stdout, 'x');
});

test('poll(2) on the pipe blocks, then wakes when data arrives (NOTIFY_POLL)', async (t) => {
  const m = await mountForTest(t);
  const script = [
    'import os, select, sys, time',
    // A file without poll support is always ready, and polling it must not turn POLL off for the mount.
    `plain = os.open(${JSON.stringify(`${m.mountpoint}/hello`)}, os.O_RDONLY)`,
    'q = select.poll(); q.register(plain, select.POLLIN)',
    'print("plain", q.poll(0)[0][1] & select.POLLIN, flush=True)',
    `fd = os.open(${JSON.stringify(`${m.mountpoint}/pipe`)}, os.O_RDONLY)`,
    'p = select.poll(); p.register(fd, select.POLLIN)',
    'print("empty", p.poll(0), flush=True)',
    't = time.monotonic(); ev = p.poll(10000)',
    'print("woke", ev[0][1] & select.POLLIN if ev else 0, round(time.monotonic() - t, 3), flush=True)',
    'print("read", os.read(fd, 100).decode(), flush=True)',
  ].join('\n');
  const py = start('python3', ['-c', script]);
  t.after(() => py.child.kill('SIGKILL'));
  // Once it printed "empty", it is about to block in poll(2): give it time to prove it stays blocked.
  let out = '';
  py.child.stdout!.on('data', (d: string) => {
    out += d;
  });
  assert.ok(await eventually(() => out.includes('empty'), 5000), 'the poller never started');
  assert.equal(await within(py.done, 300), 'pending', 'poll must block while the pipe is empty');
  m.post({ type: 'push', text: 'ping' });
  const r = await within(py.done, 5000);
  assert.notEqual(r, 'pending');
  const lines = (r as Done).out.trim().split('\n');
  assert.equal(lines.shift(), 'plain 1');
  assert.equal(lines[0], 'empty []');
  const [, pollin, waited] = lines[1].split(' ');
  assert.equal(pollin, '1');
  assert.ok(Number(waited) >= 0.2, `poll returned after ${waited} s, before any data existed`);
  assert.equal(lines[2], 'read ping');
  assert.ok((m.stats().requests.POLL ?? 0) >= 3);
});

test('the doorbell rung from another thread runs the wake callbacks on the serving thread', async (t) => {
  const shared = new SharedArrayBuffer(4);
  const m = await mountForTest(t, { vfsData: { shared } });
  assert.equal(spawnSync('cat', [`${m.mountpoint}/shared`], { encoding: 'utf8' }).stdout, '0\n');
  const ringer = new Worker(
    `const { workerData } = require('node:worker_threads');
     const words = new Int32Array(workerData.shared);
     Atomics.store(words, 0, 42);
     import(workerData.doorbellModule).then((d) => d.ringDoorbell(workerData.doorbell, workerData.index));`,
    {
      eval: true,
      workerData: {
        shared,
        doorbell: m.doorbell,
        doorbellModule: new URL('../../src/fuse/doorbell.js', import.meta.url).href,
      },
    },
  );
  await once(ringer, 'exit');
  let seen = '';
  for (let i = 0; i < 100 && seen !== '42\n'; i++) {
    seen = spawnSync('cat', [`${m.mountpoint}/shared`], { encoding: 'utf8' }).stdout;
    if (seen !== '42\n') await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(seen, '42\n');
});

test('the mount answers while the main thread spins for 3 s', async (t) => {
  const m = await mountForTest(t);
  const script = [
    'import time',
    't = time.monotonic()',
    `data = open(${JSON.stringify(`${m.mountpoint}/events/sys1/ev1/format`)}).read()`,
    'print(round((time.monotonic() - t) * 1000, 1), data.splitlines()[0], flush=True)',
  ].join('\n');
  const py = start('python3', ['-c', script]);
  t.after(() => py.child.kill('SIGKILL'));
  const spinUntil = Date.now() + 3000;
  while (Date.now() < spinUntil) {
    // busy: no event loop turn, no microtask, nothing
  }
  const r = await within(py.done, 5000);
  assert.notEqual(r, 'pending');
  const [ms, first] = (r as Done).out.trim().split(' ');
  assert.equal(first, 'name:');
  // Waiting on the main thread would take the whole 3 s spin; half of it leaves room for a loaded machine.
  assert.ok(Number(ms) < 1500, `the read took ${ms} ms while the main thread was busy for 3 s`);
});

test("a word of the caller's own shared memory can be the doorbell (emitters ring it with plain Atomics)", async (t) => {
  const engine = new SharedArrayBuffer(64);
  const m = await mountForTest(t, { options: { doorbell: { buffer: engine, index: 5 } } });
  assert.equal(m.doorbell, engine);
  assert.equal(m.doorbellIndex, 5);
  const reader = start('head', ['-c', '3', `${m.mountpoint}/pipe`]);
  t.after(() => reader.child.kill('SIGKILL'));
  assert.ok(await eventually(() => m.stats().parked >= 1, 5000), 'the read was never parked');
  const wakesBefore = m.stats().wakes;
  // The tree queues data without ringing; a foreign thread rings the shared word the way an emitter would.
  m.port.postMessage({ type: 'push', text: 'abc' });
  const ringer = new Worker(
    `const { workerData } = require('node:worker_threads');
     const w = new Int32Array(workerData);
     Atomics.add(w, 5, 1);
     Atomics.notify(w, 5);`,
    { eval: true, workerData: engine },
  );
  await once(ringer, 'exit');
  const r = await within(reader.done, 5000);
  assert.notEqual(r, 'pending');
  assert.equal((r as Done).out, 'abc');
  assert.ok(m.stats().wakes > wakesBefore);
});

test('close() while a reader is parked ends the reader instead of hanging either side', async (t) => {
  const m = await mountForTest(t);
  const reader = start('cat', [`${m.mountpoint}/pipe`]);
  t.after(() => reader.child.kill('SIGKILL'));
  assert.ok(await eventually(() => m.stats().parked >= 1, 5000), 'the read was never parked');
  assert.notEqual(await within(m.close(), 5000), 'pending', 'close() hung');
  const r = await within(reader.done, 5000);
  assert.notEqual(r, 'pending', 'the reader is still blocked after close()');
  assert.notEqual((r as Done).code, 0);
});
