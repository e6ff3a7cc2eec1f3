/**
 * `per_cpu/` holds one directory per configured CPU of the machine from the start (as the kernel's does; empty ones
 * read as empty). A thread that starts emitting beyond those is a new "CPU": its `per_cpu/cpuN` directory appears
 * through the mount at once,
 * woken by the engine — not only when some request happens to reach the filesystem. The check reads `per_cpu`'s
 * link count with `stat`: the kernel answers that from its cache (no request reaches ntrace, so nothing but the
 * engine's wake-up can refresh the tree) until the new directory's invalidation arrives.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { cpuCount } from '../../src/trace/engine.js';
import { eventually } from '../support/mount.js';
import { mountTracefs, ok, py } from './helpers.js';

const engineUrl = new URL('../../src/trace/engine.js', import.meta.url).href;

/** Runs a thread whose only act is one trace_marker record; resolves with the CPU count it saw after it. */
function firstRecordFromNewThread(): Promise<{ cpus: number; accepted: number }> {
  const code = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.engineUrl).then((e) => {
  const accepted = e.writeMarker(0, 'hello from a new thread');
  parentPort.postMessage({ cpus: e.cpuCount(), accepted });
});`;
  const w = new Worker(code, { eval: true, workerData: { engineUrl } });
  return new Promise((resolve, reject) => {
    w.once('message', (m) => {
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

/** sysconf(_SC_NPROCESSORS_CONF), as glibc counts it. */
const configured = readdirSync('/sys/devices/system/cpu').filter((n) => /^cpu[0-9]+$/.test(n)).length;

test('per_cpu holds cpu0..cpu{N-1} for the N configured CPUs from the start; those without a thread read as empty', async (t) => {
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  assert.ok(configured >= 1);
  const dirs = ok(`ls ${d}/per_cpu`).trim().split('\n');
  const want = Math.max(configured, cpuCount());
  assert.deepEqual(
    dirs.sort((a, b) => Number(a.slice(3)) - Number(b.slice(3))),
    Array.from({ length: want }, (_, i) => `cpu${i}`),
  );
  assert.equal(Number(ok(`stat -c %h ${d}/per_cpu`).trim()), 2 + want);
  for (let cpu = cpuCount(); cpu < configured; cpu++) {
    const c = `${d}/per_cpu/cpu${cpu}`;
    assert.deepEqual(ok(`ls ${c}`).trim().split('\n').sort(), [
      'buffer_size_kb',
      'stats',
      'trace',
      'trace_pipe',
      'trace_pipe_raw',
    ]);
    assert.match(ok(`cat ${c}/trace`), /^# tracer: nop\n/);
    assert.doesNotMatch(ok(`cat ${c}/trace`), /^[^#]/m, 'no records');
    assert.match(ok(`cat ${c}/stats`), /^entries: 0$/m);
    assert.deepEqual(py(`t(lambda: len(os.read(os.open('${c}/trace_pipe_raw', os.O_RDONLY | os.O_NONBLOCK), 4096)))`), [
      'EAGAIN',
    ]);
  }
});

test('per_cpu/cpuN appears at once when a new thread starts emitting, for every new thread', async (t) => {
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  const links = () => Number(ok(`stat -c %h ${d}/per_cpu`).trim());
  // Threads up to the configured CPU count find their directory there already.
  while (cpuCount() < configured) {
    const r = await firstRecordFromNewThread();
    assert.match(ok(`cat ${d}/per_cpu/cpu${r.cpus - 1}/trace`), /hello from a new thread$/m);
  }
  const before = cpuCount();
  // Two threads one after the other: the second proves the wake-up is re-armed after the first.
  for (let k = 1; k <= 2; k++) {
    // Settle the kernel's caches first: after an invalidation, the next stats revalidate the attributes, then the
    // entry (a LOOKUP, which refreshes the tree); after that `stat` is answered by the kernel alone.
    for (let i = 0; i < 3; i++) assert.equal(links(), 2 + before + k - 1, 'one subdirectory per CPU');
    const r = await firstRecordFromNewThread();
    assert.ok(r.accepted > 0, 'the thread recorded');
    assert.equal(r.cpus, before + k, 'the thread is a new CPU');
    const appeared = await eventually(() => links() === 2 + before + k, 2000);
    assert.ok(appeared, `cpu${r.cpus - 1}: per_cpu link count ${links()}, expected ${2 + before + k}`);
    const listing = ok(`ls ${d}/per_cpu`).split('\n');
    assert.ok(listing.includes(`cpu${r.cpus - 1}`), `ls per_cpu: ${listing.join(' ')}`);
    assert.match(ok(`cat ${d}/per_cpu/cpu${r.cpus - 1}/trace`), /hello from a new thread$/m);
  }
});
