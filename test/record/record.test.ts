/**
 * `ntrace record` against a real mount, read back by Debian's trace-cmd (report and dump --all, no warning allowed):
 * v7 and v6, the top level and an instance, several threads (more than the machine's CPUs), a string field filling a
 * page, a gap long enough for time-extend records, and Ctrl-C in the middle of the command.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { MountClient } from '../../src/client/index.js';
import { defineEvent } from '../../src/index.js';
import { record } from '../../src/record/index.js';
import { mountTracefs, uniqueSystem } from '../tracefs/helpers.js';
import { report, scratch, traceCmd, traceLines } from './support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const version of [7, 6] as const) {
  test(`v${version}: trace-cmd reads back event for event what trace shows, long strings and a 200 ms gap included`, async (t) => {
    const m = await mountTracefs(t);
    const dir = scratch(t);
    const sys = uniqueSystem('rec');
    const tick = defineEvent(sys, 'tick', { n: 'u32', msg: 'string' });
    t.after(() => tick.remove());
    const tree = new MountClient(m.mountpoint);
    // A second instance records the same events and is never consumed: its `trace` is the reference (the mount's
    // close removes it).
    await tree.mkdir('instances/witness');
    await tree.writeFile(`instances/witness/events/${sys}/enable`, '1');
    const stop = new AbortController();
    const output = join(dir, 'trace.dat');
    const recording = record({
      tree,
      events: [`${sys}:tick`],
      output,
      version,
      signal: stop.signal,
      onStarted: async () => {
        for (let n = 0; n < 400; n++) {
          tick.emit({ n, msg: n % 100 === 7 ? 'x'.repeat(6000) : `hello ${n}` });
          if (n === 200) await sleep(220); // > 2^27 ns: the next record needs a time extend
          if (n % 50 === 0) await sleep(5);
        }
        stop.abort();
      },
    });
    const result = await recording;
    await tree.writeFile(`instances/witness/events/${sys}/enable`, '0');
    assert.equal(result.events, 400);
    assert.deepEqual(result.lostByCpu, []);
    const expected = traceLines(Buffer.from(await tree.readFile('instances/witness/trace')).toString());
    assert.equal(expected.length, 400, 'the witness instance saw every event');
    const got = report(output).filter((l) => l.event === 'tick');
    assert.deepEqual(
      got.map((l) => l.fields),
      expected.map((l) => l.fields),
    );
    // The long strings came through as trace shows them (cut to what one record holds).
    assert.ok(got[7].fields.length > 3000, `long string: ${got[7].fields.length} chars`);
    const gap = got[201].ts - got[200].ts;
    assert.ok(gap >= 0.2 && gap < 2, `gap across the time extend: ${gap} s`);
    assert.ok(Math.abs(gap - (expected[201].ts - expected[200].ts)) < 0.001, 'same gap as trace shows');
    const dump = traceCmd('dump', '--all', output);
    assert.match(dump, new RegExp(`\\b${version}\\s+\\[Version\\]`));
  });
}

test('every thread is recorded, with more threads than CPUs; each thread is its own CPU in the file', async (t) => {
  const m = await mountTracefs(t);
  const dir = scratch(t);
  const sys = uniqueSystem('recthr');
  const ev = defineEvent(sys, 'work', { thread: 'u32', n: 'u32' });
  t.after(() => ev.remove());
  const threads = availableParallelism() + 2;
  const perThread = 200;
  const output = join(dir, 'threads.dat');
  const indexUrl = new URL('../../src/index.js', import.meta.url).href;
  const code = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.indexUrl).then(({ defineEvent }) => {
  const ev = defineEvent(workerData.sys, 'work', { thread: 'u32', n: 'u32' });
  for (let n = 0; n < workerData.perThread; n++) ev.emit({ thread: workerData.id, n });
  parentPort.postMessage('done');
});`;
  const stop = new AbortController();
  const result = await record({
    tree: new MountClient(m.mountpoint),
    events: [sys],
    output,
    signal: stop.signal,
    onStarted: async () => {
      const done = Array.from({ length: threads }, (_, id) => {
        const w = new Worker(code, { eval: true, workerData: { indexUrl, sys, id, perThread } });
        return new Promise<void>((resolve, reject) => {
          w.once('message', () => void w.terminate().then(() => resolve()));
          w.once('error', reject);
        });
      });
      await Promise.all(done);
      stop.abort();
    },
  });
  assert.equal(result.events, threads * perThread);
  const lines = report(output).filter((l) => l.event === 'work');
  assert.equal(lines.length, threads * perThread);
  const cpuOfThread = new Map<number, Set<number>>();
  for (const l of lines) {
    const id = Number(/thread=([0-9]+)/.exec(l.fields)?.[1]);
    if (!cpuOfThread.has(id)) cpuOfThread.set(id, new Set());
    cpuOfThread.get(id)!.add(l.cpu);
  }
  assert.equal(cpuOfThread.size, threads, 'every thread recorded');
  const cpus = new Set([...cpuOfThread.values()].map((s) => [...s][0]));
  for (const s of cpuOfThread.values()) assert.equal(s.size, 1, 'a thread stays on one CPU');
  assert.equal(cpus.size, threads, 'one CPU per thread');
  traceCmd('dump', '--all', output);
});

test('-B: an instance is created, recorded (its name in the file) and removed again', async (t) => {
  const m = await mountTracefs(t);
  const dir = scratch(t);
  const sys = uniqueSystem('recinst');
  const ev = defineEvent(sys, 'hit', { n: 'u32' });
  t.after(() => ev.remove());
  const tree = new MountClient(m.mountpoint);
  const output = join(dir, 'inst.dat');
  const stop = new AbortController();
  await record({
    tree,
    events: [`${sys}:hit`],
    instance: 'recorded',
    filter: 'n >= 10',
    output,
    signal: stop.signal,
    onStarted: () => {
      for (let n = 0; n < 30; n++) ev.emit({ n });
      stop.abort();
    },
  });
  assert.equal(existsSync(join(m.mountpoint, 'instances', 'recorded')), false, 'instance removed');
  const lines = report(output).filter((l) => l.event === 'hit');
  assert.deepEqual(
    lines.map((l) => l.fields),
    Array.from({ length: 20 }, (_, i) => `n=${i + 10}`),
  );
  assert.match(traceCmd('dump', '--all', output), /"recorded" \[name\]/);
  // Nothing was left on in the top level.
  assert.equal(readFileSync(join(m.mountpoint, 'events', sys, 'hit', 'enable'), 'utf8'), '0\n');
});

test('ntrace record: Ctrl-C in the middle finishes a valid file', async (t) => {
  const m = await mountTracefs(t);
  const dir = scratch(t);
  const sys = uniqueSystem('recint');
  const ev = defineEvent(sys, 'beat', { n: 'u32' });
  t.after(() => ev.remove());
  const output = join(dir, 'int.dat');
  const cli = new URL('../../src/cli/main.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [cli, 'record', m.mountpoint, '-e', sys, '-o', output], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.after(() => child.kill('SIGKILL'));
  // Emit until the recorder has turned the event on, then a while longer.
  let n = 0;
  const until = Date.now() + 10_000;
  while (!ev.enabled && Date.now() < until) await sleep(20);
  assert.ok(ev.enabled, `the recorder enabled the event: ${stderr}`);
  for (let i = 0; i < 50; i++) {
    ev.emit({ n: n++ });
    await sleep(10);
  }
  child.kill('SIGINT');
  assert.equal(await exited, 0, stderr);
  const lines = report(output).filter((l) => l.event === 'beat');
  assert.deepEqual(
    lines.map((l) => l.fields),
    Array.from({ length: n }, (_, i) => `n=${i}`),
  );
  assert.match(stderr, new RegExp(`${n} events`));
});
