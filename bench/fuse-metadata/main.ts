/**
 * FUSE metadata benchmark (`npm run bench:fuse`): the same kernel-sized events/ tree served by ntrace (kernfs
 * template directories over our FUSE server) and by the libfuse3 C peer, next to the kernel's own tracefs events/.
 * Workloads: find, ls -lR, stat of every file, cat events/* /* /id; cold (after drop_caches) and warm; medians of
 * alternating runs, with each server's own CPU time per workload (ntrace: every thread but the benchmark's main one;
 * the peer: its process) and the requests each got, by opcode.
 * Then LOOKUP+GETATTR requests/s with timeouts 0, and the doorbell's wake-up latency.
 *
 *   node dist/bench/fuse-metadata/main.js [--runs N] [--timeout S] [--only w1,w2] [--json] [--no-kernel]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type FuseMount, mountFuse } from '../../src/fuse/index.js';
import { Op } from '../../src/fuse/protocol.js';
import { kernelEventsPath } from '../../test/support/paths.js';
import { buildPeer, peerRequests, peerRequestsByOpcode, startPeer, stopPeer } from '../support/libfuse-peer.js';
import { dropCaches, isMounted, runCleanups, sh, timed } from '../support/shell.js';
import { median, round } from '../support/stats.js';
import { metadataWorkloads, type WorkloadTarget } from '../support/workloads.js';
import type { BenchTreeData } from './tree.js';
import { pathList } from './tree.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const runs = Number(args[args.indexOf('--runs') + 1]) || 10;
const withKernel = !args.includes('--no-kernel');
// Entry/attr timeout of both FUSE servers in the main workloads. Long, as ntrace can afford: kernfs notifies every
// change and the server turns it into an invalidation, so caching never serves stale names or modes.
/** `--only find,cat-id`: run just these workloads (while investigating one). */
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : undefined;
const timeoutS = args.includes('--timeout') ? Number(args[args.indexOf('--timeout') + 1]) : 3600;
const log = (s: string) => {
  if (!json) process.stdout.write(`${s}\n`);
};

const treeModule = new URL('./tree.js', import.meta.url);

/** On-CPU time of each thread of a process, in ms (schedstat: nanoseconds, unlike the 10 ms ticks of stat). */
function threadCpuMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(tid, Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/**
 * CPU clock of ntrace's server: every thread of this process but the main one, which only runs the benchmark (it
 * waits in spawnSync while a workload runs). That is the serving thread, the helper, and V8's threads doing garbage
 * collection and compilation for them — CPU the server costs as surely as its own thread's (5–10 % of it under
 * stat-all; sessions 1–4 counted only the busiest thread). Node has no gettid(); the main thread's tid is the pid.
 */
function serverThreadsCpu(pid: number): () => number {
  return () => {
    let sum = 0;
    for (const [tid, ms] of threadCpuMs(pid)) if (tid !== String(pid)) sum += ms;
    return sum;
  };
}

/** CPU clock of a whole process (the C peer: one thread serves). */
function processCpu(pid: number): () => number {
  return () => {
    let sum = 0;
    for (const ms of threadCpuMs(pid).values()) sum += ms;
    return sum;
  };
}

interface Target extends WorkloadTarget {
  readonly name: 'ntrace' | 'peer' | 'kernel';
  /** How much CPU the server spent (ms so far), for the FUSE servers. */
  readonly serverCpuMs?: () => number;
}

const workloads = metadataWorkloads('id');

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the FUSE benchmark needs root (mounts, drop_caches)');
  const work = mkdtempSync(join(tmpdir(), 'ntrace-bench-fuse-'));
  const dirs = {
    ntrace: join(work, 'ntrace'),
    peer: join(work, 'peer'),
    kernel: join(work, 'kernel'),
    zero: join(work, 'zero'),
    peer0: join(work, 'peer0'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d);
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    const peerBin = buildPeer();
    const spec = join(work, 'paths.txt');
    const paths = pathList(kernelEventsPath);
    writeFileSync(spec, `${paths.join('\n')}\n`);

    const data: BenchTreeData = {
      eventsPath: kernelEventsPath,
      cache: { entryValidMs: timeoutS * 1000, attrValidMs: timeoutS * 1000 },
    };
    // The root's attribute timeout too: the peer answers every inode, the root included, with --timeout.
    const ntrace = await mountFuse({
      mountpoint: dirs.ntrace,
      vfsModule: treeModule,
      vfsData: data,
      options: { rootAttrValidMs: timeoutS * 1000 },
    });
    cleanups.push(() => ntrace.close());
    const peerCounter = join(work, 'peer.requests');
    const peer = await startPeer(peerBin, dirs.peer, spec, timeoutS, peerCounter);
    cleanups.push(() => stopPeer(peer, dirs.peer));
    const targets: Target[] = [];
    const serverCpu = { ntrace: serverThreadsCpu(process.pid), peer: processCpu(peer.pid!) };
    for (const name of ['ntrace', 'peer'] as const) {
      const list = join(work, `${name}.files`);
      writeFileSync(list, `${paths.map((p) => join(dirs[name], 'events', p)).join('\n')}\n`);
      targets.push({ name, events: join(dirs[name], 'events'), fileList: list, serverCpuMs: serverCpu[name] });
    }
    if (withKernel) {
      const m = spawnSync('mount', ['-t', 'tracefs', 'nodev', dirs.kernel], { encoding: 'utf8' });
      if (m.status === 0) {
        cleanups.push(() => {
          spawnSync('umount', [dirs.kernel]);
        });
        const list = join(work, 'kernel.files');
        sh(`find ${dirs.kernel}/events -type f > ${list}`, 'discard');
        targets.push({ name: 'kernel', events: join(dirs.kernel, 'events'), fileList: list });
      } else log(`(kernel tracefs not mountable: ${m.stderr.trim()})`);
    }
    log(`tree: ${paths.length} files; ${runs} alternating runs per workload; entry/attr timeouts ${timeoutS} s`);

    const results: Record<string, Record<string, number>> = {};
    for (const [wname, cmdOf] of Object.entries(workloads)) {
      if (only && !only.includes(wname)) continue;
      for (const mode of ['cold', 'warm'] as const) {
        const samples = new Map<string, number[]>(targets.map((t) => [t.name, []]));
        const cpu = new Map<string, number[]>(targets.map((t) => [t.name, []]));
        const requests: number[] = [];
        const peerReqs: number[] = [];
        // Which requests the last run of each server got, by opcode: the counts are compared like for like.
        let ntraceMix: Record<string, number> = {};
        let peerMix: Record<string, number> = {};
        if (mode === 'warm') for (const t of targets) sh(cmdOf(t), 'discard');
        for (let i = 0; i < runs; i++) {
          // Alternate the order too, so no target always runs right after another's cache churn.
          const order = i % 2 === 0 ? targets : [...targets].reverse();
          for (const t of order) {
            if (mode === 'cold') dropCaches();
            const cpuBefore = t.serverCpuMs?.() ?? 0;
            const requestsBefore = allRequests(ntrace);
            const mixBefore = ntrace.stats().requests;
            const peerBefore = peerRequests(peerCounter);
            const peerMixBefore = peerRequestsByOpcode(peerCounter);
            samples.get(t.name)!.push(timed(cmdOf(t), 'discard'));
            if (t.serverCpuMs) cpu.get(t.name)!.push(t.serverCpuMs() - cpuBefore);
            if (t.name === 'ntrace') {
              requests.push(allRequests(ntrace) - requestsBefore);
              ntraceMix = mixSince(mixBefore, ntrace.stats().requests);
            }
            if (t.name === 'peer') {
              peerReqs.push(peerRequests(peerCounter) - peerBefore);
              const after = peerRequestsByOpcode(peerCounter);
              peerMix = mixSince(namedCounts(peerMixBefore), namedCounts(after));
            }
          }
        }
        const row: Record<string, number> = {};
        for (const t of targets) row[t.name] = round(median(samples.get(t.name)!));
        row.vsPeer = round(row.ntrace / row.peer, 2);
        if (row.kernel !== undefined) row.vsKernel = round(row.ntrace / row.kernel, 2);
        // The servers' own CPU time: what the per-request path costs, far less sensitive to the machine's load.
        row.requests = median(requests);
        // Each server's CPU over its own requests (the peer's OPENDIR/RELEASEDIR and re-reads included): like for like.
        row.peerRequests = median(peerReqs);
        row.ntraceCpuMs = round(median(cpu.get('ntrace')!));
        row.peerCpuMs = round(median(cpu.get('peer')!));
        if (row.requests > 0 && row.peerCpuMs > 0) row.cpuVsPeer = round(row.ntraceCpuMs / row.peerCpuMs, 2);
        if (row.requests > 0 && row.peerRequests > 0 && row.peerCpuMs > 0)
          row.cpuPerRequestVsPeer = round(row.ntraceCpuMs / row.requests / (row.peerCpuMs / row.peerRequests), 2);
        results[`${wname}-${mode}`] = row;
        log(
          `${`${wname}-${mode}`.padEnd(15)} ntrace ${fmt(row.ntrace)}  peer ${fmt(row.peer)}  kernel ${row.kernel === undefined ? '   -    ' : fmt(row.kernel)}  ntrace/peer ${row.vsPeer.toFixed(2)}  ntrace/kernel ${row.vsKernel?.toFixed(2) ?? '-'}`,
        );
        const perRequest =
          row.requests > 0
            ? `${row.requests} vs ${row.peerRequests} requests a run: ${((1000 * row.ntraceCpuMs) / row.requests).toFixed(2)} vs ${((1000 * row.peerCpuMs) / Math.max(1, row.peerRequests)).toFixed(2)} µs each, ${row.cpuPerRequestVsPeer?.toFixed(2) ?? '-'}×`
            : 'no request reached ntrace';
        log(
          `${''.padEnd(15)} server CPU: ntrace ${fmt(row.ntraceCpuMs)}  peer ${fmt(row.peerCpuMs)}  ${row.cpuVsPeer?.toFixed(2) ?? '-'}× a run (${perRequest})`,
        );
        if (row.requests > 0) log(`${''.padEnd(15)} requests: ntrace ${mixText(ntraceMix)} | peer ${mixText(peerMix)}`);
      }
    }

    // Requests/s with timeouts 0: every path step is a LOOKUP, every stat a GETATTR.
    const probe = new SharedArrayBuffer(8);
    const zero = await mountFuse({
      mountpoint: dirs.zero,
      vfsModule: treeModule,
      options: { rootAttrValidMs: 0 }, // as the peer's root: every path walk revalidates it
      vfsData: {
        eventsPath: kernelEventsPath,
        cache: { entryValidMs: 0, attrValidMs: 0 },
        probe,
      } satisfies BenchTreeData,
    });
    cleanups.push(() => zero.close());
    const peer0 = await startPeer(peerBin, dirs.peer0, spec, 0);
    cleanups.push(() => stopPeer(peer0, dirs.peer0));
    const zeroList = join(work, 'zero.files');
    writeFileSync(zeroList, `${paths.map((p) => join(dirs.zero, 'events', p)).join('\n')}\n`);
    const peer0List = join(work, 'peer0.files');
    writeFileSync(peer0List, `${paths.map((p) => join(dirs.peer0, 'events', p)).join('\n')}\n`);
    const rates: number[] = [];
    const zeroMs: number[] = [];
    const peerZeroMs: number[] = [];
    for (let i = 0; i < Math.max(3, Math.ceil(runs / 2)); i++) {
      const before = counts(zero);
      const ms = timed(`xargs -a ${zeroList} stat >/dev/null`, 'discard');
      const n = counts(zero) - before;
      zeroMs.push(ms);
      rates.push(n / (ms / 1000));
      peerZeroMs.push(timed(`xargs -a ${peer0List} stat >/dev/null`, 'discard'));
    }
    const requestsPerSecond = Math.round(median(rates));
    const statZero = { ntrace: round(median(zeroMs)), peer: round(median(peerZeroMs)) };
    log(
      `LOOKUP+GETATTR with timeouts 0: ${requestsPerSecond} requests/s (stat-all ${fmt(statZero.ntrace)} vs peer ${fmt(statZero.peer)}, ${(statZero.ntrace / statZero.peer).toFixed(2)}×)`,
    );

    const wake = wakeLatency(zero, probe);
    log(`doorbell wake-up round trip (ring → wake callback → back): median ${wake.medianUs} µs, p99 ${wake.p99Us} µs`);

    if (json) {
      process.stdout.write(
        `${JSON.stringify({ runs, files: paths.length, timeoutS, workloads: results, requestsPerSecond, statAllTimeoutsZero: statZero, wakeLatencyUs: wake })}\n`,
      );
    }
  } finally {
    await runCleanups(cleanups);
    for (const d of Object.values(dirs)) if (!isMounted(d)) rmdirSync(d);
    rmSync(work, { recursive: true, force: true });
  }
}

/** Every request the mount has answered (or taken, for FORGETs) so far. */
function allRequests(m: FuseMount): number {
  let n = 0;
  for (const c of Object.values(m.stats().requests)) n += c;
  return n;
}

const OP_NAMES = new Map<number, string>(Object.entries(Op).map(([name, code]) => [code, name]));

/** Counts by opcode index as counts by opcode name. */
function namedCounts(byOpcode: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  byOpcode.forEach((n, op) => {
    if (n > 0) out[OP_NAMES.get(op) ?? `op${op}`] = n;
  });
  return out;
}

function mixSince(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [op, n] of Object.entries(after)) if (n - (before[op] ?? 0) > 0) out[op] = n - (before[op] ?? 0);
  return out;
}

function mixText(mix: Record<string, number>): string {
  return Object.entries(mix)
    .map(([op, n]) => `${op} ${n}`)
    .join(', ');
}

function counts(m: FuseMount): number {
  const r = m.stats().requests;
  return (r.LOOKUP ?? 0) + (r.GETATTR ?? 0);
}

/** Ring from this thread (after a quiet spell) and block (Atomics.wait) until the serving thread's wake callback answers. */
function wakeLatency(m: FuseMount, probe: SharedArrayBuffer): { medianUs: number; p99Us: number } {
  const words = new Int32Array(probe);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const us: number[] = [];
  for (let i = 1; i <= 300; i++) {
    Atomics.store(words, 0, i);
    const t = performance.now();
    m.ring();
    while (Atomics.load(words, 1) !== i) Atomics.wait(words, 1, Atomics.load(words, 1), 1000);
    us.push((performance.now() - t) * 1000);
    // Rings closer together than the helper's wake gap (4 ms) are paced by design; measure a ring after a pause.
    Atomics.wait(pause, 0, 0, 5);
  }
  us.sort((a, b) => a - b);
  return { medianUs: Math.round(median(us)), p99Us: Math.round(us[Math.floor(us.length * 0.99)]) };
}

function fmt(ms: number): string {
  return `${ms.toFixed(1).padStart(7)}ms`;
}

await main();
