/**
 * `npm run bench:record`: recording a mount to trace.dat, ntrace record against trace-cmd record in the same run.
 *
 * 1. Writing: ring pages spooled per CPU (what `ntrace record` does while reading) and the trace.dat assembled from
 *    the spools (what it does at the end), MB/s of pages each, on disk (the machine's /tmp). Check: writing the
 *    trace.dat ≥ 200 MB/s.
 * 2. Sustained rate: a worker thread emits a paced stream of one event (28-byte records) into a mount served by this
 *    process; `ntrace record` and `ntrace trace-cmd … record` (Debian's trace-cmd through the shim) record it in
 *    turn, at rising rates, 2 s each. Lost = emitted − in the file. For each recorder: the highest rate with no loss
 *    and the first rate with loss. Check: ntrace's lossless rate ≥ 1.0 × trace-cmd's.
 * Flags: --quick (fewer rates), --json.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { TraceDatReader } from '../../src/export/index.js';
import { defineEvent, mount } from '../../src/index.js';
import { assembleTraceDat } from '../../src/record/assemble.js';
import { CpuSpool } from '../../src/record/spool.js';
import type { TraceDatHeader } from '../../src/record/trace-dat.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
const say = (s: string) => {
  if (!json) process.stdout.write(`${s}\n`);
};
const PAGE = 4096;
const cli = new URL('../../src/cli/main.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'ntrace-bench-record-'));
const failures: string[] = [];

// ---------- 1. writing trace.dat ----------

async function writeThroughput(): Promise<{ spool: number; assemble: number }> {
  const cpus = 2;
  const mb = quick ? 64 : 256;
  const pagesPerCpu = (mb * 1048576) / PAGE / cpus;
  const page = new Uint8Array(PAGE);
  new DataView(page.buffer).setUint32(8, PAGE - 16, true);
  const dir = join(work, 'write');
  mkdirSync(dir);
  const header: TraceDatHeader = {
    version: 7,
    pageSize: PAGE,
    headerPage: Buffer.from('header_page\n'),
    headerEvent: Buffer.from('header_event\n'),
    ftraceFormats: [],
    systems: [],
    cmdlines: Buffer.from(''),
    traceClock: '[local]',
    uname: 'bench',
    writer: 'ntrace',
    cpuCount: cpus,
    instance: '',
    cpuStats: [],
  };
  const t0 = performance.now();
  const spools = Array.from({ length: cpus }, (_, cpu) => new CpuSpool(cpu, join(dir, `cpu${cpu}`), PAGE));
  for (let i = 0; i < pagesPerCpu; i++)
    for (const s of spools) {
      const flushing = s.add(page);
      if (flushing) await flushing;
    }
  for (const s of spools) await s.close();
  const t1 = performance.now();
  await assembleTraceDat(join(dir, 'out.dat'), header, spools);
  const t2 = performance.now();
  rmSync(dir, { recursive: true, force: true });
  return { spool: mb / ((t1 - t0) / 1000), assemble: mb / ((t2 - t1) / 1000) };
}

// ---------- 2. sustained rate ----------

const EMITTER = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.indexUrl).then(({ defineEvent }) => {
  const ev = defineEvent('benchrec', 'rate', { n: 'u32', x: 'u64' });
  const tick = new Int32Array(new SharedArrayBuffer(4));
  parentPort.on('message', ({ rate, ms }) => {
    let n = 0;
    const start = performance.now();
    for (;;) {
      const now = performance.now() - start;
      if (now >= ms) break;
      const due = Math.floor((rate * now) / 1000);
      while (n < due) if (ev.enabled) ev.emit({ n: n++, x: 0 }); else n++;
      Atomics.wait(tick, 0, 0, 0.2);
    }
    parentPort.postMessage(n);
  });
  parentPort.postMessage('ready');
});`;

interface Recorder {
  readonly name: string;
  args(mnt: string, out: string): string[];
}

const RECORDERS: readonly Recorder[] = [
  { name: 'ntrace record', args: (mnt, out) => ['record', mnt, '-e', 'benchrec:rate', '-o', out] },
  {
    name: 'trace-cmd record',
    args: (mnt, out) => [
      'trace-cmd',
      mnt,
      '--',
      'record',
      '-q',
      '--file-version',
      '6',
      '-e',
      'benchrec:rate',
      '-o',
      out,
    ],
  },
];

function recordsIn(file: string, id: number): number {
  const r = new TraceDatReader(file);
  try {
    let n = 0;
    for (const rec of r.records()) if ((rec.data[0] | (rec.data[1] << 8)) === id) n++;
    return n;
  } finally {
    r.close();
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function oneRun(
  rec: Recorder,
  mnt: string,
  emitter: Worker,
  enabled: () => boolean,
  id: number,
  rate: number,
): Promise<{ emitted: number; recorded: number }> {
  const out = join(work, `run.dat`);
  rmSync(out, { force: true });
  const child = spawn(process.execPath, [cli, ...rec.args(mnt, out)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, XDG_CACHE_HOME: join(work, 'cache') },
  });
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const until = Date.now() + 15_000;
  while (!enabled() && Date.now() < until && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
  if (!enabled()) {
    child.kill('SIGKILL');
    throw new Error(`${rec.name} did not start: ${err}`);
  }
  await new Promise((r) => setTimeout(r, 300)); // trace-cmd's readers start after the enable
  const emitted = await new Promise<number>((resolve) => {
    emitter.once('message', resolve);
    emitter.postMessage({ rate, ms: 2000 });
  });
  await new Promise((r) => setTimeout(r, 200));
  child.kill('SIGINT');
  const code = await exited(child);
  if (code !== 0) throw new Error(`${rec.name} exited ${code}: ${err}`);
  return { emitted, recorded: recordsIn(out, id) };
}

async function sustained(): Promise<{ name: string; lossless: number; lossAt: number | undefined }[]> {
  const mnt = join(work, 'mnt');
  mkdirSync(mnt);
  const ev = defineEvent('benchrec', 'rate', { n: 'u32', x: 'u64' });
  const m = await mount(mnt, {});
  const emitter = new Worker(EMITTER, {
    eval: true,
    workerData: { indexUrl: new URL('../../src/index.js', import.meta.url).href },
  });
  await new Promise((r) => emitter.once('message', r));
  const id = Number((await import('node:fs')).readFileSync(join(mnt, 'events/benchrec/rate/id'), 'utf8'));
  const rates = quick ? [20_000, 80_000, 320_000] : [20_000, 40_000, 80_000, 160_000, 320_000, 640_000];
  const results: { name: string; lossless: number; lossAt: number | undefined }[] = [];
  try {
    for (const rec of RECORDERS) {
      let lossless = 0;
      let lossAt: number | undefined;
      for (const rate of rates) {
        const r = await oneRun(rec, mnt, emitter, () => ev.enabled, id, rate);
        const lost = r.emitted - r.recorded;
        say(`  ${rec.name.padEnd(17)} ${String(rate).padStart(7)} ev/s: emitted ${r.emitted}, lost ${lost}`);
        if (lost > 0) {
          lossAt = rate;
          break;
        }
        lossless = rate;
      }
      results.push({ name: rec.name, lossless, lossAt });
    }
  } finally {
    await emitter.terminate();
    await m.close();
    ev.remove();
  }
  return results;
}

try {
  say(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (2 cores shared: figures are noisy, ratios count)`,
  );
  const w = await writeThroughput();
  say(`spooling pages while recording: ${w.spool.toFixed(0)} MB/s`);
  say(`writing trace.dat from the spooled pages: ${w.assemble.toFixed(0)} MB/s of ring pages (check: >= 200)`);
  if (!(w.assemble >= 200)) failures.push(`writing trace.dat ${w.assemble.toFixed(0)} MB/s < 200`);
  const mbps = w.assemble;
  say('sustained rate (2 s per rate, paced emitter in a worker, 28-byte records):');
  const rates = await sustained();
  for (const r of rates)
    say(`  ${r.name}: lossless up to ${r.lossless} ev/s; loss from ${r.lossAt ?? `above ${r.lossless}`} ev/s`);
  const [ours, theirs] = rates;
  // Both lossless at no rate: nothing compared, a failure (0/0); only trace-cmd at none: ntrace is ahead.
  const ratio =
    theirs.lossless > 0 ? ours.lossless / theirs.lossless : ours.lossless > 0 ? Number.POSITIVE_INFINITY : 0;
  say(`ratio ntrace/trace-cmd lossless rate: ${ratio.toFixed(2)}x (check: >= 1.0)`);
  if (!(ratio >= 1)) failures.push(`ntrace record sustains ${ratio.toFixed(2)}x trace-cmd's rate`);
  if (json)
    process.stdout.write(
      `${JSON.stringify({ bench: 'record', spoolMBps: w.spool, writeMBps: mbps, rates, ratio, load: loadavg() })}\n`,
    );
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (failures.length) {
  process.stderr.write(`FAILED: ${failures.join('; ')}\n`);
  process.exitCode = 1;
}
