/**
 * Read speed (`npm run bench:read`): ntrace's trace text, raw pages and small files read through the mount, next to
 * the kernel's own tracefs read the same way in the same run (issue 14). Needs root (mounts, the kernel's tracefs).
 *
 * - trace_pipe: N trace_marker records in the top-level buffer (the kernel's filled by `reader fill`, a C loop of
 *   write(2)s pinned to CPU 0; ntrace's by writeMarker with text lengthened so lines are the same length), then
 *   `reader drain` (bench/read/reader.c, one C binary for both) reads 64 KiB at a time until EAGAIN: lines/s.
 * - trace: the same records, a full non-consuming read to EOF: lines/s.
 * - trace_pipe_raw (per_cpu/cpu0): the same records as binary pages, 64 KiB reads: records/s, and whether every
 *   read returned whole pages.
 * - emit cost while a reader drains: ns per enabled emit with nobody reading, and with `cat trace_pipe` running.
 * - warm `cat` of every events/<sys>/<event>/id and format (ntrace serving the kernel's event list): µs per file.
 *
 * The kernel's top-level buffer is put back as found: buffer_size_kb, tracing_on, and cleared.
 *
 *   node dist/bench/read/main.js [--records N] [--runs R] [--only text|emit|small] [--json]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { defineSpec, readSpec } from '../../src/cli/spec.js';
import { defineEvent, mount } from '../../src/index.js';
import {
  clearBuffer,
  cpusOf,
  setBufferSizeKb,
  setEventEnabled,
  setTracingOn,
  TOP_INSTANCE,
  writeMarker,
} from '../../src/trace/engine.js';
import { kernelEventsPath, repoRoot } from '../../test/support/paths.js';
import { threadOnCpuNs } from '../support/proc.js';
import { runCleanups, sh } from '../support/shell.js';
import { median } from '../support/stats.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const opt = (name: string, dflt: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const records = opt('--records', 1_000_000);
const runs = opt('--runs', 3);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
if (only !== undefined && !['text', 'emit', 'small'].includes(only)) {
  process.stderr.write(`bench/read: --only takes text, emit or small, not ${only}\n`);
  process.exit(2);
}
const part = (name: string) => only === undefined || only === name;
const READ_SIZE = 65536;
/** The marker text of the kernel's lines (the line is its context columns, `tracing_mark_write: `, this, `\n`). */
const TEXT = 'ntrace read benchmark line, 48 bytes of payload';
const log = (s: string) => {
  if (!json) process.stdout.write(`${s}\n`);
};

/** gcc bench/read/reader.c into the git-ignored bench/.build/; reused while up to date. */
function buildReader(): string {
  const src = join(repoRoot, 'bench', 'read', 'reader.c');
  const bin = join(repoRoot, 'bench', '.build', 'read-reader');
  if (existsSync(bin) && statSync(bin).mtimeMs > statSync(src).mtimeMs) return bin;
  mkdirSync(join(repoRoot, 'bench', '.build'), { recursive: true });
  const cc = spawnSync('gcc', ['-O2', '-Wall', '-o', bin, src], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`building the reader failed:\n${cc.stderr}`);
  return bin;
}

interface Drained {
  bytes: number;
  lines: number;
  reads: number;
  maxRead: number;
  oddReads: number;
  ms: number;
}

function drain(reader: string, path: string, size = READ_SIZE): Drained {
  const [bytes, lines, reads, maxRead, oddReads, ns] = sh(`${reader} drain ${path} ${size}`)
    .trim()
    .split(' ')
    .map(Number);
  return { bytes, lines, reads, maxRead, oddReads, ms: ns / 1e6 };
}

/** The kernel's top-level buffer, as found, and how to put it back. */
function kernelState(dir: string): () => void {
  const size = readFileSync(join(dir, 'buffer_size_kb'), 'utf8');
  // "7 (expanded: 1408)": the buffer has never been used; the size it would expand to is what tracing gets.
  const kb = /expanded: (\d+)/.exec(size)?.[1] ?? size.trim();
  const on = readFileSync(join(dir, 'tracing_on'), 'utf8').trim();
  return () => {
    writeFileSync(join(dir, 'trace'), '');
    writeFileSync(join(dir, 'buffer_size_kb'), kb);
    writeFileSync(join(dir, 'tracing_on'), on);
  };
}

/** Length of the lines a marker of `text` gives in `pipe` (one record written by `write`, then read back). */
function lineLength(reader: string, pipe: string, write: () => void): number {
  write();
  const d = drain(reader, pipe);
  if (d.lines !== 1) throw new Error(`${pipe}: expected one line, got ${d.lines}`);
  return d.bytes;
}

const rate = (n: number, ms: number) => (n / ms) * 1000;
const mega = (x: number) => `${(x / 1e6).toFixed(2)} M`;

interface Row {
  ntrace: number;
  kernel: number;
  ratio: number;
}

/** Medians of both, and ntrace's over the kernel's (a rate: >= 1 is as fast; a time: <= 1 is as fast). */
function row(name: string, unit: string, ntrace: number[], kernel: number[]): Row {
  const n = median(ntrace);
  const k = median(kernel);
  const ratio = n / k;
  const f = unit.endsWith('/s') ? mega : (x: number) => x.toFixed(2);
  log(
    `${name.padEnd(34)} ntrace ${f(n).padStart(9)} ${unit}   kernel ${f(k).padStart(9)} ${unit}   ntrace/kernel ${ratio.toFixed(2)}x`,
  );
  return { ntrace: n, kernel: k, ratio };
}

/** Per emit, in the best of `rounds` windows of `ms`: wall time, and the time the emitting thread was on a CPU. */
function emitCost(emit: (i: number) => void, ms: number, rounds: number): { wall: number; onCpu: number } {
  let best = { wall: Number.POSITIVE_INFINITY, onCpu: Number.POSITIVE_INFINITY };
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const onCpu = threadOnCpuNs(process.pid);
    const t = performance.now();
    let now = t;
    while (now - t < ms) {
      for (let i = 0; i < 1000; i++) emit(n + i);
      n += 1000;
      now = performance.now();
    }
    const wall = ((now - t) * 1e6) / n;
    if (wall < best.wall) best = { wall, onCpu: (threadOnCpuNs(process.pid) - onCpu) / n };
  }
  return best;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the read benchmark needs root (mounts, the kernel tracefs)');
  const reader = buildReader();
  const work = mkdtempSync(join(tmpdir(), 'ntrace-bench-read-'));
  const dirs = { ntrace: join(work, 'ntrace'), kernel: join(work, 'kernel') };
  for (const d of Object.values(dirs)) mkdirSync(d);
  const cleanups: (() => Promise<void> | void)[] = [];
  const figures: Record<string, unknown> = { records, runs, load: loadavg()[0] };
  try {
    const r = spawnSync('mount', ['-t', 'tracefs', 'nodev', dirs.kernel]);
    if (r.status !== 0) throw new Error(`cannot mount the kernel's tracefs: ${r.stderr}`);
    cleanups.push(() => {
      spawnSync('umount', [dirs.kernel]);
    });
    const k = dirs.kernel;
    cleanups.push(kernelState(k));
    // ~ record header, ip and text per line, with room to spare: nothing may be overwritten.
    const kb = Math.ceil((records * (TEXT.length + 40)) / 1024 / 4) * 8;
    writeFileSync(join(k, 'buffer_size_kb'), String(kb));
    writeFileSync(join(k, 'tracing_on'), '1');
    writeFileSync(join(k, 'trace'), '');

    // The kernel's events, so that the small-file figures read as many files on both sides.
    defineSpec(readSpec(kernelEventsPath));
    const m = await mount(dirs.ntrace, { mode: 0o755 });
    cleanups.push(() => m.close());
    const n = dirs.ntrace;
    setBufferSizeKb(TOP_INSTANCE, kb);
    setTracingOn(TOP_INSTANCE, true);
    clearBuffer(TOP_INSTANCE);

    const kernelFill = (count: number, text = TEXT) => sh(`${reader} fill ${k}/trace_marker ${count} '${text}'`);
    const kLine = lineLength(reader, `${k}/trace_pipe`, () => kernelFill(1));
    const nLine0 = lineLength(reader, `${n}/trace_pipe`, () => writeMarker(TOP_INSTANCE, TEXT));
    const nText = TEXT + 'x'.repeat(Math.max(0, kLine - nLine0));
    const nLine = lineLength(reader, `${n}/trace_pipe`, () => writeMarker(TOP_INSTANCE, nText));
    log(
      `${records} trace_marker records, lines of ${kLine} bytes (kernel) and ${nLine} (ntrace); reads of ${READ_SIZE} bytes; load ${loadavg()[0].toFixed(1)}`,
    );
    const ntraceFill = () => {
      for (let i = 0; i < records; i++) writeMarker(TOP_INSTANCE, nText);
    };

    async function textFigures(): Promise<void> {
      const pipe = { ntrace: [] as number[], kernel: [] as number[] };
      const file = { ntrace: [] as number[], kernel: [] as number[] };
      const raw = { ntrace: [] as number[], kernel: [] as number[] };
      let rawShape = { maxRead: 0, oddReads: 0, reads: 0 };
      for (let i = 0; i < runs; i++) {
        // kernel: fill, read `trace` whole, drain trace_pipe; fill again, drain cpu0's trace_pipe_raw
        writeFileSync(join(k, 'trace'), '');
        kernelFill(records);
        const kf = drain(reader, `${k}/trace`);
        const kp = drain(reader, `${k}/trace_pipe`);
        if (kp.lines !== records) throw new Error(`kernel trace_pipe: ${kp.lines} lines of ${records}`);
        file.kernel.push(rate(kf.lines, kf.ms));
        pipe.kernel.push(rate(kp.lines, kp.ms));
        writeFileSync(join(k, 'trace'), '');
        kernelFill(records);
        const kr = drain(reader, `${k}/per_cpu/cpu0/trace_pipe_raw`);
        raw.kernel.push(rate(records, kr.ms));

        clearBuffer(TOP_INSTANCE);
        ntraceFill();
        const nf = drain(reader, `${n}/trace`);
        const np = drain(reader, `${n}/trace_pipe`);
        if (np.lines !== records) throw new Error(`ntrace trace_pipe: ${np.lines} lines of ${records}`);
        if (np.bytes !== records * nLine)
          throw new Error(`ntrace trace_pipe: ${np.bytes} bytes, not ${records * nLine}`);
        file.ntrace.push(rate(nf.lines, nf.ms));
        pipe.ntrace.push(rate(np.lines, np.ms));
        clearBuffer(TOP_INSTANCE);
        ntraceFill();
        const cpu = cpusOf(TOP_INSTANCE)[0] ?? 0;
        const nr = drain(reader, `${n}/per_cpu/cpu${cpu}/trace_pipe_raw`);
        raw.ntrace.push(rate(records, nr.ms));
        rawShape = { maxRead: nr.maxRead, oddReads: nr.oddReads, reads: nr.reads };
      }
      figures.linesPerSecond = {
        tracePipe: row('trace_pipe, lines/s', 'lines/s', pipe.ntrace, pipe.kernel),
        trace: row('trace (whole file), lines/s', 'lines/s', file.ntrace, file.kernel),
      };
      figures.rawRecordsPerSecond = row('trace_pipe_raw, records/s', 'rec/s', raw.ntrace, raw.kernel);
      figures.rawReads = rawShape;
      log(
        `trace_pipe_raw reads of ${READ_SIZE}: largest ${rawShape.maxRead} bytes, ${rawShape.reads} reads, ${rawShape.oddReads} not whole pages`,
      );
    }

    /**
     * Emit cost alone, while a reader drains at full speed, and while an unrelated process spins on the other core
     * (the peer: what any busy neighbour costs on this machine — 1.00× in most runs, 1.48× in one). Rounds alternate
     * the three, so each sees the same machine.
     */
    async function emitFigures(): Promise<void> {
      const ev = defineEvent('benchread', 'request', { a: 'u32', b: 'u32', c: 'u16', s: 'string' });
      setEventEnabled(TOP_INSTANCE, ev.id, true);
      const emit = (i: number) => ev.emit({ a: i, b: i * 3, c: i & 0xffff, s: 'GET /x' });
      clearBuffer(TOP_INSTANCE);
      emitCost(emit, 50, 3); // JIT warm-up
      type Cost = { wall: number; onCpu: number };
      const sides = { alone: [] as Cost[], drained: [] as Cost[], spinner: [] as Cost[] };
      const beside = async (cmd: string, into: Cost[]) => {
        const child = spawn('sh', ['-c', cmd], { stdio: 'ignore' });
        await new Promise((res) => setTimeout(res, 100)); // let it start (the reader: open and block)
        into.push(emitCost(emit, 200, 3));
        child.kill('SIGKILL');
        await new Promise((res) => child.once('exit', res));
      };
      for (let i = 0; i < runs; i++) {
        clearBuffer(TOP_INSTANCE);
        sides.alone.push(emitCost(emit, 200, 3));
        await beside(`exec cat ${n}/trace_pipe > /dev/null`, sides.drained);
        clearBuffer(TOP_INSTANCE);
        await beside('while :; do :; done', sides.spinner);
      }
      setEventEnabled(TOP_INSTANCE, ev.id, false);
      // The wall-time rise mixes the emitter's own extra work with time it waits for a core; on-CPU is the first.
      const m = (xs: Cost[]) => ({ wall: median(xs.map((x) => x.wall)), onCpu: median(xs.map((x) => x.onCpu)) });
      const [a, d, sp] = [m(sides.alone), m(sides.drained), m(sides.spinner)];
      figures.emitNs = {
        alone: a.wall,
        whileDrained: d.wall,
        ratio: d.wall / a.wall,
        onCpu: { alone: a.onCpu, whileDrained: d.onCpu, ratio: d.onCpu / a.onCpu },
        besideSpinner: { wall: sp.wall, onCpu: sp.onCpu, ratio: sp.wall / a.wall },
      };
      const line = (label: string, what: 'wall' | 'onCpu') =>
        log(
          `${label.padEnd(34)} alone ${a[what].toFixed(1)} ns   while cat trace_pipe drains ${d[what].toFixed(1)} ns   ratio ${(d[what] / a[what]).toFixed(2)}x   beside a spinning process ${(sp[what] / a[what]).toFixed(2)}x`,
        );
      line('emit, ns per enabled emit', 'wall');
      line(`  of which on a CPU (${availableParallelism()} cores)`, 'onCpu');
    }

    /** Warm cat of small files: every event's id and format, per file. */
    function smallFileFigures(): void {
      const small: Record<string, Row> = {};
      for (const f of ['id', 'format']) {
        const count = (dir: string) => Number(sh(`ls -d ${dir}/events/*/*/${f} | wc -l`).trim());
        const per = { ntrace: [] as number[], kernel: [] as number[] };
        const sides = [
          ['ntrace', n],
          ['kernel', k],
        ] as const;
        const files = { ntrace: count(n), kernel: count(k) };
        const cmd = (dir: string) => `cat ${dir}/events/*/*/${f} > /dev/null`;
        for (const [, dir] of sides) sh(cmd(dir)); // warm
        // Interleaved, so both sides see the same load.
        for (let i = 0; i < runs * 3; i++) {
          for (const [name, dir] of sides) {
            const t = performance.now();
            sh(cmd(dir));
            per[name].push(((performance.now() - t) * 1000) / files[name]);
          }
        }
        small[f] = row(`warm cat events/*/*/${f}, µs/file`, 'µs', per.ntrace, per.kernel);
      }
      figures.warmCatUsPerFile = small;
    }

    if (part('text')) await textFigures();
    if (part('emit')) await emitFigures();
    if (part('small')) smallFileFigures();
    if (json) process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await runCleanups(cleanups);
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
