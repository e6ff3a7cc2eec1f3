/**
 * How close can a Node FUSE server get to the libfuse C peer? (`npm run bench:fuse-floor`, root.) Three servers in one
 * run, cold `stat` of every file of the benchmark tree (one LOOKUP per path step not cached), alternating:
 *   - the libfuse C peer (bench/libfuse-peer/),
 *   - the least Node server (./least-server.ts): readSync, a ready-made reply, writeSync — no tree, no decoding,
 *   - ntrace (kernfs over src/fuse/server.ts), as in bench:fuse.
 * For each: server CPU per request (the peer and the least server: their process; ntrace: its serving thread, and
 * every thread but the main one as bench:fuse counts it), and read(2)/write(2) calls per request of the serving
 * thread (/proc/<pid>/task/<tid>/io). The least server's CPU over the peer's is the floor: what Node's fs binding
 * costs over libfuse's read/writev, which no JS change can take out. ntrace's CPU over the least server's is what its
 * own JS (decode, kernfs, encode, GC) costs.
 * Check (exit 1): ntrace's serving thread makes at most one read and one write per request, as the peer does.
 *
 *   node dist/bench/fuse-metadata/floor.js [--runs N] [--json]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FuseMount, mountFuse } from '../../src/fuse/index.js';
import { kernelEventsPath } from '../../test/support/paths.js';
import { buildPeer, peerRequests, startPeer, stopPeer } from '../support/libfuse-peer.js';
import { dropCaches, isMounted, runCleanups, sh, waitFor } from '../support/shell.js';
import { median } from '../support/stats.js';
import type { BenchTreeData } from './tree.js';
import { pathList } from './tree.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const runs = Number(args[args.indexOf('--runs') + 1]) || 9;
const log = (s: string) => {
  if (!json) process.stdout.write(`${s}\n`);
};

/** On-CPU ms of one thread (schedstat: nanoseconds). */
function threadCpuMs(pid: number, tid: number | string): number {
  return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
}

function threadsOf(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`);
}

/** On-CPU ms of a process's threads (those that still exist), `except` one. */
function processCpuMs(pid: number, except?: string): number {
  let sum = 0;
  for (const tid of threadsOf(pid)) {
    if (tid === except) continue;
    try {
      sum += threadCpuMs(pid, tid);
    } catch {
      // the thread ended meanwhile
    }
  }
  return sum;
}

/**
 * User and system CPU ticks of a thread or process (/proc/.../stat fields 14 and 15). The kernel samples them per
 * tick, so they are only good summed over many runs: they split the precise schedstat time into user space and kernel.
 */
function userSystemTicks(statPath: string): [number, number] {
  const fields = readFileSync(statPath, 'utf8').split(') ')[1].split(' ');
  return [Number(fields[11]), Number(fields[12])];
}

/** read(2)-like and write(2)-like calls a thread (or, with tid = pid's io file, a process) has made. */
function syscalls(path: string): { reads: number; writes: number } {
  const io = readFileSync(path, 'utf8');
  return { reads: Number(/syscr: (\d+)/.exec(io)?.[1]), writes: Number(/syscw: (\d+)/.exec(io)?.[1]) };
}

interface Server {
  readonly name: 'peer' | 'least' | 'ntrace';
  readonly list: string;
  /** CPU ms so far: [serving thread or process, all server threads]. */
  cpu(): [number, number];
  /** Requests so far. */
  requests(): number;
  /** read/write calls of the serving thread (or process) so far. */
  io(): { reads: number; writes: number };
  /** /proc stat file of the serving thread (or process), for its user/system split. */
  readonly stat: string;
}

function allRequests(m: FuseMount): number {
  let n = 0;
  for (const c of Object.values(m.stats().requests)) n += c;
  return n;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the floor benchmark needs root (mounts, drop_caches)');
  const work = mkdtempSync(join(tmpdir(), 'ntrace-bench-fuse-floor-'));
  const dirs = { peer: join(work, 'peer'), least: join(work, 'least'), ntrace: join(work, 'ntrace') };
  for (const d of Object.values(dirs)) mkdirSync(d);
  const cleanups: (() => Promise<void> | void)[] = [];
  let least: ChildProcess | undefined;
  try {
    const paths = pathList(kernelEventsPath);
    const spec = join(work, 'paths.txt');
    writeFileSync(spec, `${paths.join('\n')}\n`);
    const hour = 3_600_000;
    const ntrace = await mountFuse({
      mountpoint: dirs.ntrace,
      vfsModule: new URL('./tree.js', import.meta.url),
      vfsData: { eventsPath: kernelEventsPath, cache: { entryValidMs: hour, attrValidMs: hour } } as BenchTreeData,
      options: { rootAttrValidMs: hour },
    });
    cleanups.push(() => ntrace.close());
    const counter = join(work, 'peer.requests');
    const peer = await startPeer(buildPeer(), dirs.peer, spec, 3600, counter);
    cleanups.push(() => stopPeer(peer, dirs.peer));
    const leastScript = fileURLToPath(new URL('./least-server.js', import.meta.url));
    least = spawn(process.execPath, [leastScript, dirs.least], { stdio: ['ignore', 'ignore', 'inherit'] });
    const leastChild = least;
    cleanups.push(async () => {
      sh(`umount -l ${dirs.least}`, 'discard');
      if (leastChild.exitCode === null && leastChild.signalCode === null) {
        leastChild.kill('SIGTERM');
        await new Promise((r) => leastChild.once('exit', r));
      }
    });
    if (!(await waitFor(() => isMounted(dirs.least), 5000))) throw new Error('the least server did not mount');

    const listOf = (name: Server['name']) => {
      const list = join(work, `${name}.files`);
      writeFileSync(list, `${paths.map((p) => join(dirs[name], 'events', p)).join('\n')}\n`);
      return list;
    };
    const peerPid = peer.pid!;
    const leastPid = least.pid!;
    const me = String(process.pid);
    // ntrace's serving thread: the busiest of this process's threads over a first run (the main one only waits).
    const before = new Map(threadsOf(process.pid).map((t) => [t, threadCpuMs(process.pid, t)]));
    const ntraceList = listOf('ntrace');
    sh(`xargs -a ${ntraceList} stat >/dev/null`, 'discard');
    let serving = me;
    let most = -1;
    for (const t of threadsOf(process.pid)) {
      const used = threadCpuMs(process.pid, t) - (before.get(t) ?? 0);
      if (t !== me && used > most) [serving, most] = [t, used];
    }
    const servers: Server[] = [
      {
        name: 'peer',
        list: listOf('peer'),
        cpu: () => [processCpuMs(peerPid), processCpuMs(peerPid)],
        requests: () => peerRequests(counter),
        io: () => syscalls(`/proc/${peerPid}/io`),
        stat: `/proc/${peerPid}/stat`,
      },
      {
        name: 'least',
        list: listOf('least'),
        cpu: () => [processCpuMs(leastPid), processCpuMs(leastPid)],
        // After startup its only reads are of /dev/fuse, one per request.
        requests: () => syscalls(`/proc/${leastPid}/io`).reads,
        io: () => syscalls(`/proc/${leastPid}/io`),
        stat: `/proc/${leastPid}/stat`,
      },
      {
        name: 'ntrace',
        list: ntraceList,
        cpu: () => [threadCpuMs(process.pid, serving), processCpuMs(process.pid, me)],
        requests: () => allRequests(ntrace),
        io: () => syscalls(`/proc/${process.pid}/task/${serving}/io`),
        stat: `/proc/${process.pid}/task/${serving}/stat`,
      },
    ];
    type Sample = { us: number; allUs: number; readsPer: number; writesPer: number; requests: number };
    const samples = new Map<string, Sample[]>(servers.map((s) => [s.name, []]));
    const ticks = new Map<string, [number, number]>(servers.map((s) => [s.name, [0, 0]]));
    for (let i = 0; i <= runs; i++) {
      // Rotate the order so no server always runs right after another's cache churn; round 0 warms up.
      const order = servers.map((_, k) => servers[(k + i) % servers.length]);
      for (const s of order) {
        dropCaches();
        const [cpu0, all0] = s.cpu();
        const req0 = s.requests();
        const io0 = s.io();
        const [user0, sys0] = userSystemTicks(s.stat);
        sh(`xargs -a ${s.list} stat >/dev/null`, 'discard');
        const [cpu1, all1] = s.cpu();
        const n = s.requests() - req0;
        const io1 = s.io();
        const [user1, sys1] = userSystemTicks(s.stat);
        if (i === 0) continue;
        const t = ticks.get(s.name)!;
        t[0] += user1 - user0;
        t[1] += sys1 - sys0;
        samples.get(s.name)!.push({
          us: (1000 * (cpu1 - cpu0)) / n,
          allUs: (1000 * (all1 - all0)) / n,
          readsPer: (io1.reads - io0.reads) / n,
          writesPer: (io1.writes - io0.writes) / n,
          requests: n,
        });
      }
    }
    const m = (name: string, k: keyof Sample) => median(samples.get(name)!.map((x) => x[k]));
    /** The serving thread's CPU per request spent in user space: its share of the ticks, of the precise time. */
    const userUs = (name: string) => {
      const [user, sys] = ticks.get(name)!;
      return (m(name, 'us') * user) / Math.max(1, user + sys);
    };
    const peerUs = m('peer', 'us');
    log(`cold stat-all, ${runs} rotating runs, ${paths.length} files; server CPU per request (median):`);
    for (const s of servers) {
      const us = m(s.name, 'us');
      const all = s.name === 'ntrace' ? ` (all its threads but the main one: ${m(s.name, 'allUs').toFixed(2)} µs)` : '';
      log(
        `  ${s.name.padEnd(7)} ${us.toFixed(2).padStart(6)} µs  ${(us / peerUs).toFixed(2)}× the peer${all};` +
          ` in user space ${userUs(s.name).toFixed(2)} µs (${ticks.get(s.name)!.join('/')} user/system ticks);` +
          ` ${m(s.name, 'requests')} requests a run, ${m(s.name, 'readsPer').toFixed(3)} reads and ${m(s.name, 'writesPer').toFixed(3)} writes each`,
      );
    }
    const leastUs = m('least', 'us');
    const ntraceUs = m('ntrace', 'us');
    log(
      `  the floor (least Node server over the peer): +${(leastUs - peerUs).toFixed(2)} µs; ntrace's own JS over the floor: +${(ntraceUs - leastUs).toFixed(2)} µs`,
    );
    const readsPer = m('ntrace', 'readsPer');
    const writesPer = m('ntrace', 'writesPer');
    // FORGETs are read and never answered, so writes may be fewer; more than one of either means an extra syscall.
    const ok = readsPer <= 1.01 && writesPer <= 1.01;
    log(`check: ntrace's serving thread makes at most one read and one write per request: ${ok ? 'yes' : 'NO'}`);
    if (json) {
      const figures = Object.fromEntries(
        servers.map((s) => [
          s.name,
          {
            usPerRequest: m(s.name, 'us'),
            readsPerRequest: m(s.name, 'readsPer'),
            writesPerRequest: m(s.name, 'writesPer'),
          },
        ]),
      );
      process.stdout.write(`${JSON.stringify({ runs, files: paths.length, figures, oneReadOneWrite: ok })}\n`);
    }
    if (!ok) process.exitCode = 1;
  } finally {
    await runCleanups(cleanups);
    least?.kill('SIGKILL');
    for (const d of Object.values(dirs)) if (!isMounted(d)) rmdirSync(d);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
