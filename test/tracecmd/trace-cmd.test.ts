/**
 * Debian's trace-cmd against a real ntrace mount, through `ntrace trace-cmd TARGET -- ARGS` (the preload shim is
 * compiled on first use into a scratch cache): list, stat, start/show/stop/extract/reset, record in its variants
 * (splice and --nosplice, -e sys:event, -e sys, -f, -B, -b, -C, -d, a command) read back by report, at the top level
 * and in instances, and every thread recorded when there are more threads than CPUs.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { defineEvent } from '../../src/index.js';
import { cpuCount } from '../../src/trace/engine.js';
import { configuredCpus } from '../../src/tracefs/configured-cpus.js';
import { report, scratch } from '../record/support.js';
import { mountTracefs, uniqueSystem } from '../tracefs/helpers.js';

const cli = new URL('../../src/cli/main.js', import.meta.url).pathname;

interface Run {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/** `ntrace trace-cmd MNT -- ARGS`, asynchronously: the test's main thread keeps emitting meanwhile. */
function traceCmdOn(mnt: string, cache: string, cwd: string, ...args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [cli, 'trace-cmd', mnt, '--', ...args], {
    cwd,
    env: { ...process.env, XDG_CACHE_HOME: cache },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    }),
  );
}

function ok(r: Run, what: string): string {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.err}`);
  return r.out;
}

test('trace-cmd list, stat, start, show, stop, extract, reset and record/report on the mount', async (t) => {
  const m = await mountTracefs(t);
  const dir = scratch(t);
  const cache = join(dir, 'cache');
  const mnt = m.mountpoint;
  const sys = uniqueSystem('tc');
  const tick = defineEvent(sys, 'tick', { n: 'u32', msg: 'string' });
  const tock = defineEvent(sys, 'tock', { n: 'u32' });
  t.after(() => {
    tick.remove();
    tock.remove();
  });
  let n = 0;
  const emitter = setInterval(() => {
    for (let i = 0; i < 5; i++) {
      tick.emit({ n, msg: `m${n}` });
      tock.emit({ n });
      n++;
    }
  }, 2);
  t.after(() => clearInterval(emitter));
  const tc = (...args: string[]) => traceCmdOn(mnt, cache, dir, ...args);

  const list = ok(await tc('list', '-e'), 'list -e');
  assert.match(list, new RegExp(`^${sys}:tick$`, 'm'));
  assert.ok(
    readdirSync(join(cache, 'ntrace')).some((f) => f.endsWith('.so')),
    'the shim was built into the cache',
  );
  assert.match(ok(await tc('list', '-o'), 'list -o'), /^overwrite$/m);
  assert.match(ok(await tc('stat'), 'stat'), /Tracing is enabled|Buffer size/);

  ok(await tc('start', '-e', `${sys}:tick`), 'start');
  await new Promise((r) => setTimeout(r, 300));
  ok(await tc('stop'), 'stop');
  assert.match(ok(await tc('show'), 'show'), /tick: n=[0-9]+ msg=m/);
  ok(await tc('extract', '-o', 'extract.dat'), 'extract');
  const extracted = report(join(dir, 'extract.dat'));
  assert.ok(extracted.length > 0 && extracted.every((l) => l.event === 'tick'), 'extract holds the ticks');
  ok(await tc('reset'), 'reset');
  assert.equal(ok(await tc('show'), 'show after reset').replace(/^#.*\n/gm, ''), '', 'reset emptied the buffer');

  const variants: [string, string[], (lines: ReturnType<typeof report>) => void][] = [
    ['splice, -e sys:event', ['-e', `${sys}:tick`], (l) => assert.ok(l.every((x) => x.event === 'tick'))],
    ['--nosplice, -e sys', ['--nosplice', '-e', sys], (l) => assert.ok(new Set(l.map((x) => x.event)).size === 2)],
    [
      '-f filter',
      ['-e', `${sys}:tock`, '-f', 'n > 5'],
      (l) => assert.ok(l.every((x) => x.event === 'tock' && Number(/n=([0-9]+)/.exec(x.fields)?.[1]) > 5)),
    ],
    ['-b KB -C clock -d', ['-d', '-b', '2048', '-C', 'mono', '-e', sys], (l) => assert.ok(l.length > 0)],
  ];
  for (const [name, args, check] of variants) {
    const file = `${name.replace(/[^a-z]+/g, '-')}.dat`;
    ok(await tc('record', ...args, '-o', file, 'sleep', '0.5'), `record ${name}`);
    const lines = report(join(dir, file));
    assert.ok(lines.length > 0, `${name}: recorded something`);
    check(lines);
    // Every record the report shows is in increasing n order per event (nothing duplicated or reordered).
    for (const ev of ['tick', 'tock']) {
      const ns = lines.filter((l) => l.event === ev).map((l) => Number(/n=([0-9]+)/.exec(l.fields)?.[1]));
      for (let i = 1; i < ns.length; i++) assert.ok(ns[i] > ns[i - 1], `${name}: ${ev} in order`);
    }
  }

  // An instance: trace-cmd creates it, records it, removes it; report prefixes the instance's lines.
  ok(await tc('record', '-B', 'tcinst', '-e', `${sys}:tick`, '-o', 'inst.dat', 'sleep', '0.5'), 'record -B');
  assert.ok(report(join(dir, 'inst.dat')).some((l) => l.event === 'tick'));
  assert.equal(existsSync(join(mnt, 'instances', 'tcinst')), false, 'trace-cmd removed its instance');
  // An instance that exists: start/show/stop inside it.
  ok(await tc('start', '-B', 'tcinst2', '-e', `${sys}:tock`), 'start -B');
  await new Promise((r) => setTimeout(r, 200));
  assert.match(ok(await tc('show', '-B', 'tcinst2'), 'show -B'), /tock: n=/);
  ok(await tc('stop', '-B', 'tcinst2'), 'stop -B');
  ok(await tc('reset', '-B', 'tcinst2'), 'reset -B');
});

test('trace-cmd record sees every thread, also with more threads than the machine has CPUs', async (t) => {
  const m = await mountTracefs(t);
  const dir = scratch(t);
  const sys = uniqueSystem('tcthr');
  const ev = defineEvent(sys, 'beat', { thread: 'u32', n: 'u32' });
  t.after(() => ev.remove());
  const threads = configuredCpus() + 2;
  const indexUrl = new URL('../../src/index.js', import.meta.url).href;
  // Each worker records once at start (its per_cpu directory exists before trace-cmd looks), then beats until told.
  const code = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.indexUrl).then(({ defineEvent }) => {
  const ev = defineEvent(workerData.sys, 'beat', { thread: 'u32', n: 'u32' });
  let n = 0;
  const beat = setInterval(() => { if (ev.enabled) ev.emit({ thread: workerData.id, n: n++ }); }, 5);
  parentPort.on('message', () => { clearInterval(beat); parentPort.close(); });
  parentPort.postMessage('ready');
});`;
  const workers = Array.from({ length: threads }, (_, id) => {
    const w = new Worker(code, { eval: true, workerData: { indexUrl, sys, id } });
    return { w, ready: new Promise((r) => w.once('message', r)) };
  });
  t.after(() => Promise.all(workers.map(({ w }) => w.terminate())));
  await Promise.all(workers.map((x) => x.ready));
  // A first record from each worker's thread gives it its CPU (per_cpu/cpuN) before trace-cmd starts.
  writeFileSync(join(m.mountpoint, 'events', sys, 'enable'), '1');
  await new Promise((r) => setTimeout(r, 200));
  writeFileSync(join(m.mountpoint, 'events', sys, 'enable'), '0');
  assert.ok(cpuCount() >= threads, `${cpuCount()} CPUs for ${threads} threads`);
  const r = await traceCmdOn(m.mountpoint, join(dir, 'cache'), dir, 'record', '-e', sys, '-o', 'thr.dat', 'sleep', '1');
  ok(r, 'record');
  const lines = report(join(dir, 'thr.dat')).filter((l) => l.event === 'beat');
  const seen = new Set(lines.map((l) => Number(/thread=([0-9]+)/.exec(l.fields)?.[1])));
  assert.equal(seen.size, threads, `threads seen by trace-cmd: ${[...seen].sort((a, b) => a - b).join(',')}`);
  for (const { w } of workers) w.postMessage('stop');
});
