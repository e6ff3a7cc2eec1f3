/**
 * Where a FUSE request's time goes, ntrace beside the libfuse peer (`npm run bench:fuse-profile`, root, perf): both
 * mounted side by side, warmed up, then `perf record` attached to ntrace's threads and the peer only while cold
 * stat-all and cold cat-id run on each, alternately. Samples of ntrace's serving thread and of the peer's process are
 * sorted into where they fell (kernel read/write, libc, Node's fs binding, JS, V8 runtime, page faults, GC) by the
 * innermost frame and the call chain. Run node with --perf-basic-prof (the npm script does) so JS frames have names.
 *
 *   node --perf-basic-prof dist/bench/fuse-metadata/profile.js [--runs N]
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountFuse } from '../../src/fuse/index.js';
import { kernelEventsPath } from '../../test/support/paths.js';
import { buildPeer, startPeer, stopPeer } from '../support/libfuse-peer.js';
import { dropCaches, isMounted, runCleanups, sh } from '../support/shell.js';
import { pathList } from './tree.js';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 4;

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

/** Where a sample fell, from its call chain (innermost first: [symbol, dso]). */
function category(chain: readonly [string, string][]): string {
  if (chain.some(([, dso]) => dso.includes('kernel'))) {
    const syms = chain.map(([s]) => s).join(' ');
    if (syms.includes('exc_page_fault')) return 'kernel: page faults';
    if (syms.includes('fuse_dev_read') || syms.includes('ksys_read')) return 'kernel: read(2) of /dev/fuse';
    // The reply's write, and being switched back in after the client it woke ran (exit_to_user_mode after write).
    if (/fuse_dev_write|ksys_write|writev|libc_write/.test(syms)) return 'kernel: the reply write(2) and switch back';
    if (syms.includes('uv_fs_read') || /\bread\b/.test(syms)) return 'kernel: read(2) of /dev/fuse';
    return 'kernel: other';
  }
  const [sym, dso] = chain[0];
  if (dso.includes('JIT') || sym.startsWith('JS:') || sym.startsWith('Builtins_')) return 'JS and V8 builtins';
  if (dso.includes('libc')) return 'libc (syscall wrappers, malloc)';
  if (dso.includes('libfuse')) return "libfuse and the peer's own code";
  if (/::fs::|uv_|uv__|tracing|PrintSyncTrace|ReqWrap|BaseObject/.test(sym)) return "Node's fs binding";
  if (/Scaveng|MarkCompact|Sweep|Heap::|GC/.test(sym)) return 'V8 garbage collection';
  return 'V8 runtime and the rest of node';
}

/** Sample counts by category for each thread of `tids`, from `perf script` output. */
function classify(perfData: string, tids: readonly string[]): Map<string, Map<string, number>> {
  const text = spawnSync('perf', ['script', '-i', perfData, '-F', 'tid,ip,sym,dso'], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  }).stdout;
  const out = new Map<string, Map<string, number>>(tids.map((t) => [t, new Map()]));
  let tid: string | undefined;
  let chain: [string, string][] = [];
  const flush = () => {
    const counts = tid === undefined ? undefined : out.get(tid);
    if (counts && chain.length > 0) {
      const c = category(chain);
      counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    tid = undefined;
    chain = [];
  };
  for (const line of text.split('\n')) {
    if (line === '') flush();
    else if (!line.startsWith('\t')) tid = line.trim().split(/\s+/)[0];
    else {
      const m = /^\s*[0-9a-f]+ (.*) \((.*)\)$/.exec(line);
      if (m) chain.push([m[1], m[2]]);
    }
  }
  flush();
  return out;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the profile needs root (mounts, drop_caches, perf)');
  if (spawnSync('perf', ['--version']).status !== 0)
    throw new Error('perf is not installed (apt-get install linux-perf)');
  const work = mkdtempSync(join(tmpdir(), 'ntrace-bench-fuse-profile-'));
  const dirs = { ntrace: join(work, 'ntrace'), peer: join(work, 'peer') };
  for (const d of Object.values(dirs)) mkdirSync(d);
  const cleanups: (() => Promise<void> | void)[] = [];
  let perf: ChildProcess | undefined;
  try {
    const paths = pathList(kernelEventsPath);
    writeFileSync(join(work, 'paths.txt'), `${paths.join('\n')}\n`);
    const hour = 3_600_000;
    const ntrace = await mountFuse({
      mountpoint: dirs.ntrace,
      vfsModule: new URL('./tree.js', import.meta.url),
      vfsData: { eventsPath: kernelEventsPath, cache: { entryValidMs: hour, attrValidMs: hour } },
      options: { rootAttrValidMs: hour },
    });
    cleanups.push(() => ntrace.close());
    const peer = await startPeer(buildPeer(), dirs.peer, join(work, 'paths.txt'), 3600);
    cleanups.push(() => stopPeer(peer, dirs.peer));
    const workloads = (name: 'ntrace' | 'peer') => {
      const list = join(work, `${name}.files`);
      writeFileSync(list, `${paths.map((p) => join(dirs[name], 'events', p)).join('\n')}\n`);
      return [`xargs -a ${list} stat >/dev/null`, `cat ${dirs[name]}/events/*/*/id >/dev/null`];
    };
    const commands = { ntrace: workloads('ntrace'), peer: workloads('peer') };
    for (let i = 0; i < 2; i++) {
      for (const name of ['ntrace', 'peer'] as const) {
        for (const cmd of commands[name]) {
          dropCaches();
          sh(cmd, 'discard');
        }
      }
    }
    // Every thread but the main one (the benchmark's): the serving thread is the busiest of them.
    const before = threadCpuMs(process.pid);
    const tids = [...before.keys()].filter((t) => t !== String(process.pid));
    const data = join(work, 'perf.data');
    perf = spawn('perf', ['record', '-F', '1999', '-g', '-o', data, '-t', [...tids, String(peer.pid)].join(',')], {
      stdio: 'ignore',
    });
    await new Promise((r) => setTimeout(r, 1500)); // perf attaches
    for (let i = 0; i < runs; i++) {
      for (const name of i % 2 === 0 ? (['ntrace', 'peer'] as const) : (['peer', 'ntrace'] as const)) {
        for (const cmd of commands[name]) {
          dropCaches();
          sh(cmd, 'discard');
        }
      }
    }
    const after = threadCpuMs(process.pid);
    perf.kill('SIGINT');
    await new Promise((r) => perf!.once('exit', r));
    perf = undefined;
    let serving = tids[0];
    for (const t of tids) {
      if ((after.get(t) ?? 0) - (before.get(t) ?? 0) > (after.get(serving) ?? 0) - (before.get(serving) ?? 0)) {
        serving = t;
      }
    }
    const byThread = classify(data, [serving, String(peer.pid)]);
    const ours = byThread.get(serving)!;
    const theirs = byThread.get(String(peer.pid))!;
    const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    const names = [...new Set([...ours.keys(), ...theirs.keys()])].sort(
      (a, b) => (ours.get(b) ?? 0) + (theirs.get(b) ?? 0) - (ours.get(a) ?? 0) - (theirs.get(a) ?? 0),
    );
    process.stdout.write(`${runs} runs each of cold stat-all and cold cat-id; perf samples at 1999 Hz\n`);
    process.stdout.write(`${'where'.padEnd(48)} ${'ntrace'.padStart(8)} ${'peer'.padStart(8)}\n`);
    for (const n of names) {
      process.stdout.write(
        `${n.padEnd(48)} ${String(ours.get(n) ?? 0).padStart(8)} ${String(theirs.get(n) ?? 0).padStart(8)}\n`,
      );
    }
    const ratio = total(ours) / Math.max(1, total(theirs));
    process.stdout.write(
      `${'total (serving thread; peer process)'.padEnd(48)} ${String(total(ours)).padStart(8)} ${String(total(theirs)).padStart(8)}  ${ratio.toFixed(2)}×\n`,
    );
  } finally {
    perf?.kill('SIGKILL');
    await runCleanups(cleanups);
    // Never recursively through a mount that failed to go away.
    for (const d of Object.values(dirs)) if (!isMounted(d)) rmdirSync(d);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
