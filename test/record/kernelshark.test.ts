/**
 * KernelShark opens `ntrace record`'s files: a small C program compiled here against Debian's libkshark (the library
 * the GUI loads files with) loads every record of a v7 file, a v6 file and a -B instance's file, with the same
 * events, CPUs and timestamps as trace-cmd report.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { MountClient } from '../../src/client/index.js';
import { defineEvent } from '../../src/index.js';
import { record } from '../../src/record/index.js';
import { repoRoot } from '../support/paths.js';
import { mountTracefs, uniqueSystem } from '../tracefs/helpers.js';
import { report, scratch } from './support.js';

function buildLoader(dir: string): string {
  const out = join(dir, 'kshark-load');
  const src = join(repoRoot, 'test', 'record', 'fixtures', 'kshark-load.c');
  const cc = spawnSync('cc', ['-O1', '-Wall', '-o', out, src, '-I/usr/include/kernelshark', '-lkshark'], {
    encoding: 'utf8',
  });
  assert.equal(cc.status, 0, `compiling against libkshark (Debian: libkshark-dev, libjson-c-dev): ${cc.stderr}`);
  return out;
}

const indexUrl = new URL('../../src/index.js', import.meta.url).href;
const workerCode = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.indexUrl).then(({ defineEvent }) => {
  const ev = defineEvent(workerData.sys, 'step', { n: 'u32', label: 'string' });
  for (let n = 0; n < 100; n++) ev.emit({ n, label: 'worker' });
  parentPort.postMessage('done');
});`;

test('libkshark loads every record of v7, v6 and instance recordings', async (t) => {
  const m = await mountTracefs(t);
  const dir = scratch(t);
  const loader = buildLoader(dir);
  const sys = uniqueSystem('ks');
  const ev = defineEvent(sys, 'step', { n: 'u32', label: 'string' });
  t.after(() => ev.remove());
  const tree = new MountClient(m.mountpoint);
  for (const [name, version, instance] of [
    ['v7', 7, undefined],
    ['v6', 6, undefined],
    ['instance', 7, 'ksinst'],
  ] as const) {
    const output = join(dir, `${name}.dat`);
    const stop = new AbortController();
    await record({
      tree,
      events: [sys],
      output,
      version,
      instance,
      signal: stop.signal,
      onStarted: async () => {
        for (let n = 0; n < 100; n++) ev.emit({ n, label: 'main' });
        const w = new Worker(workerCode, { eval: true, workerData: { indexUrl, sys } });
        await new Promise((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        });
        await w.terminate();
        stop.abort();
      },
    });
    const r = spawnSync(loader, [output], { encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], 'entries 200', name);
    const entries = lines.slice(1).map((l) => {
      const [cpu, ts, event, ...info] = l.split(' ');
      return { cpu: Number(cpu), ts: Number(ts), event, info: info.join(' ') };
    });
    const expected = report(output).filter((l) => l.event === 'step');
    assert.equal(expected.length, 200);
    assert.deepEqual(
      entries.map((e) => `${e.cpu} ${e.event} ${e.info}`).sort(),
      expected.map((l) => `${l.cpu} ${sys}/step ${l.fields}`).sort(),
      name,
    );
    assert.equal(new Set(entries.map((e) => e.cpu)).size, 2, `${name}: two threads, two CPUs`);
    for (let i = 1; i < entries.length; i++) assert.ok(entries[i].ts >= entries[i - 1].ts, `${name}: time order`);
  }
});
