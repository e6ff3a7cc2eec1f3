/**
 * `record()`: what `ntrace record` does, as a library call. Enables the asked events in an instance of a tracing
 * directory, reads every CPU's trace_pipe_raw while the application keeps running, and on stop (duration, abort
 * signal) drains the buffers, puts the events back as they were and writes a trace.dat (v7 by default, or v6).
 */
import { unlinkSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { removeInstance, type TreeClient } from '../client/index.js';
import { walkPage } from '../trace/raw-page.js';
import { assembleTraceDat } from './assemble.js';
import { eventSelection } from './selection.js';
import { CpuSpool } from './spool.js';
import type { TraceDatHeader } from './trace-dat.js';

export interface RecordOptions {
  /** The tree to record (`openTarget(TARGET)`). */
  readonly tree: TreeClient;
  /** `system` or `system:event`; none = every event. */
  readonly events?: readonly string[];
  /** A filter applied to every selected event (the kernel's filter language). */
  readonly filter?: string;
  /** Record this instance (created if missing, removed again afterwards); default the top level. */
  readonly instance?: string;
  readonly output: string;
  readonly version?: 6 | 7;
  /** Stop after this many seconds. */
  readonly duration?: number;
  /** Stop when aborted (Ctrl-C in the command). */
  readonly signal?: AbortSignal;
  /** Called about every `progressMs` while recording. */
  readonly onProgress?: (p: RecordProgress) => void;
  readonly progressMs?: number;
  /** Called once recording runs (events enabled, readers started). */
  readonly onStarted?: () => void;
}

export interface RecordProgress {
  readonly seconds: number;
  readonly events: number;
  readonly bytes: number;
  /** Events the writer reported lost (missed-events marks in the pages read). */
  readonly lost: number;
}

export interface RecordResult extends RecordProgress {
  readonly output: string;
  readonly fileBytes: number;
  readonly cpus: number;
  /** Per CPU, events lost to overruns or dropped (from per_cpu/cpuN/stats), only CPUs that lost any. */
  readonly lostByCpu: readonly { readonly cpu: number; readonly overrun: number; readonly dropped: number }[];
}

const PAGE_SIZE = 4096;
const CPU_SCAN_MS = 200;
/** Pages asked for per read of trace_pipe_raw. */
const READ_PAGES = 16;
/** Longest wait, after the events are off, for the buffers to empty (a marker writer may keep them busy). */
const DRAIN_MS = 2000;
const DRAIN_MIN_MS = 150;

/** A page's records are only counted here (progress, losses); trace-cmd reads them from the file. */
const COUNT_ONLY = { record() {} };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const text = async (tree: TreeClient, path: string) => Buffer.from(await tree.readFile(path)).toString('utf8');

async function cpusOf(tree: TreeClient, dir: string): Promise<number[]> {
  const out: number[] = [];
  for (const e of await tree.readdir(`${dir}per_cpu`)) {
    const m = /^cpu([0-9]+)$/.exec(e.name);
    if (m) out.push(Number(m[1]));
  }
  return out.sort((x, y) => x - y);
}

/** Unconsumed entries of a CPU's buffer (per_cpu/cpuN/stats `entries:`). */
async function entriesOf(tree: TreeClient, dir: string, cpu: number): Promise<number> {
  return Number(/^entries: *([0-9]+)/m.exec(await text(tree, `${dir}per_cpu/cpu${cpu}/stats`))?.[1] ?? 0);
}

export async function record(opts: RecordOptions): Promise<RecordResult> {
  const { tree } = opts;
  const instance = opts.instance ?? '';
  /** Paths of the recorded instance's files are `${dir}NAME`. */
  const dir = instance === '' ? '' : `instances/${instance}/`;
  let created = false;
  if (instance !== '') {
    try {
      await tree.mkdir(`instances/${instance}`);
      created = true;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
    }
  }
  const selections = (opts.events?.length ? opts.events : ['all']).map(eventSelection);
  const spoolDir = dirname(opts.output);
  const spools = new Map<number, CpuSpool>();
  const readers: Promise<void>[] = [];
  const stopReading = new AbortController();
  let events = 0;
  let lost = 0;
  const started = Date.now();

  const readCpu = async (spool: CpuSpool): Promise<void> => {
    const path = `${dir}per_cpu/cpu${spool.cpu}/trace_pipe_raw`;
    // A read returns as many whole pages as fit (one, from the kernel's tracefs).
    for await (const chunk of tree.stream(path, { signal: stopReading.signal, chunkSize: READ_PAGES * PAGE_SIZE })) {
      for (let at = 0; at < chunk.length; at += PAGE_SIZE) {
        const page = chunk.subarray(at, at + PAGE_SIZE);
        const c = walkPage(page, COUNT_ONLY);
        events += c.records;
        if (c.missed > 0) lost += c.missed;
        const flushing = spool.add(page);
        if (flushing) await flushing;
      }
    }
  };

  const scanCpus = async (): Promise<void> => {
    for (const cpu of await cpusOf(tree, dir)) {
      if (spools.has(cpu)) continue;
      const spool = new CpuSpool(cpu, spoolPath(spoolDir, cpu), PAGE_SIZE);
      spools.set(cpu, spool);
      readers.push(readCpu(spool));
    }
  };

  const restore: (() => Promise<unknown>)[] = [];
  /** The events recorded (set_event once they are on): their formats go in the file. */
  let enabled: string[] = [];
  try {
    for (const s of selections) await tree.readFile(s.enable); // a missing event fails here, before anything changed
    // As trace-cmd record: start from an empty buffer, then turn the events on.
    await tree.writeFile(`${dir}trace`, '');
    await tree.writeFile(`${dir}tracing_on`, '1');
    for (const s of selections) {
      if (opts.filter !== undefined && s.filter !== '') {
        await tree.writeFile(`${dir}${s.filter}`, opts.filter);
        restore.push(() => tree.writeFile(`${dir}${s.filter}`, '0'));
      }
      await tree.writeFile(`${dir}${s.enable}`, '1');
      restore.push(() => tree.writeFile(`${dir}${s.enable}`, '0'));
    }
    enabled = (await text(tree, `${dir}set_event`)).split('\n').filter(Boolean);
    await scanCpus();
    opts.onStarted?.();
    const progressMs = opts.progressMs ?? 1000;
    let nextProgress = Date.now() + progressMs;
    let nextScan = Date.now() + CPU_SCAN_MS;
    const deadline = opts.duration !== undefined ? started + opts.duration * 1000 : Number.POSITIVE_INFINITY;
    while (!opts.signal?.aborted && Date.now() < deadline) {
      await sleep(Math.min(50, Math.max(0, deadline - Date.now())));
      if (Date.now() >= nextScan) {
        await scanCpus();
        nextScan = Date.now() + CPU_SCAN_MS;
      }
      if (opts.onProgress && Date.now() >= nextProgress) {
        opts.onProgress(progressOf());
        nextProgress = Date.now() + progressMs;
      }
    }
  } finally {
    // Events off first; what is already in the buffers is still read: drain until every CPU is empty.
    for (const undo of restore.reverse()) await undo().catch(() => {});
    await drain().catch(() => {});
    stopReading.abort();
  }
  const failures = (await Promise.allSettled(readers)).filter((r) => r.status === 'rejected');
  const ordered = [...spools.values()].sort((a, b) => a.cpu - b.cpu);
  try {
    for (const s of ordered) await s.close();
    if (failures.length > 0) throw (failures[0] as PromiseRejectedResult).reason;
    const stats = await Promise.all(ordered.map((s) => text(tree, `${dir}per_cpu/cpu${s.cpu}/stats`)));
    const lostByCpu = ordered
      .map((s, i) => ({ cpu: s.cpu, ...lossOf(stats[i]) }))
      .filter((l) => l.overrun > 0 || l.dropped > 0);
    const header = await describe(tree, dir, ordered, stats, opts.version ?? 7, instance, enabled);
    const fileBytes = await assembleTraceDat(opts.output, header, completeCpus(ordered, spoolDir));
    return { ...progressOf(), output: opts.output, fileBytes, cpus: ordered.length, lostByCpu };
  } finally {
    for (const s of ordered) {
      try {
        unlinkSync(s.path);
      } catch {
        // Never written (no pages).
      }
    }
    // Still busy after the retries, or gone with its process: left for the user.
    if (created) await removeInstance(tree, `instances/${instance}`);
  }

  async function drain(): Promise<void> {
    const start = Date.now();
    while (Date.now() < start + DRAIN_MS) {
      // A thread's first record makes its per_cpu directory appear a moment later: keep listing while draining, and
      // drain for at least DRAIN_MIN_MS so a thread that recorded just before the stop is found.
      await scanCpus();
      const left = await Promise.all([...spools.keys()].map((cpu) => entriesOf(tree, dir, cpu)));
      if (left.every((n) => n === 0) && Date.now() >= start + DRAIN_MIN_MS) return;
      await sleep(20);
    }
  }

  function progressOf(): RecordProgress {
    let bytes = 0;
    for (const s of spools.values()) bytes += s.bytes;
    return { seconds: (Date.now() - started) / 1000, events, bytes, lost };
  }
}

const spoolPath = (dir: string, cpu: number): string => join(dir, `.ntrace-record-${process.pid}.cpu${cpu}`);

/** CPUs 0…max each get an entry (v6 indexes CPU data by position); missing ones are empty. */
function completeCpus(spools: readonly CpuSpool[], dir: string): CpuSpool[] {
  const max = spools.length ? spools[spools.length - 1].cpu : -1;
  const byCpu = new Map(spools.map((s) => [s.cpu, s]));
  const out: CpuSpool[] = [];
  for (let cpu = 0; cpu <= max; cpu++) out.push(byCpu.get(cpu) ?? new CpuSpool(cpu, spoolPath(dir, cpu), PAGE_SIZE));
  return out;
}

function lossOf(stats: string): { overrun: number; dropped: number } {
  const num = (name: string) => Number(new RegExp(`^${name}: *([0-9]+)`, 'm').exec(stats)?.[1] ?? 0);
  return { overrun: num('overrun'), dropped: num('dropped events') };
}

/** Everything but the pages: headers, formats of the events that can be in the data, names, clock, stats. */
async function describe(
  tree: TreeClient,
  dir: string,
  spools: readonly CpuSpool[],
  stats: readonly string[],
  version: 6 | 7,
  instance: string,
  enabled: readonly string[],
): Promise<TraceDatHeader> {
  const systems = new Map<string, Set<string>>();
  for (const line of enabled) {
    const [system, event] = line.split(':');
    if (!system || !event || system === 'ftrace') continue;
    if (!systems.has(system)) systems.set(system, new Set());
    systems.get(system)!.add(event);
  }
  const format = (system: string, event: string) => tree.readFile(`${dir}events/${system}/${event}/format`);
  const ftraceEvents = (await tree.readdir(`${dir}events/ftrace`)).filter((e) => e.kind === 'dir');
  return {
    version,
    pageSize: PAGE_SIZE,
    headerPage: await tree.readFile(`${dir}events/header_page`),
    headerEvent: await tree.readFile(`${dir}events/header_event`),
    ftraceFormats: await Promise.all(ftraceEvents.map((e) => format('ftrace', e.name))),
    systems: await Promise.all(
      [...systems].map(async ([name, evs]) => ({
        name,
        formats: await Promise.all([...evs].map((e) => format(name, e))),
      })),
    ),
    cmdlines: await tree.readFile('saved_cmdlines'),
    traceClock: (await text(tree, `${dir}trace_clock`)).trim(),
    uname: `${os.type()} ${os.hostname()} ${os.release()} ${os.version()} ${os.machine()}`,
    writer: 'ntrace',
    cpuCount: spools.length ? spools[spools.length - 1].cpu + 1 : 0,
    instance,
    cpuStats: spools.map((s, i) => `CPU: ${s.cpu}\n${stats[i]}`),
  };
}
