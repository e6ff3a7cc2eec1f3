/**
 * tracefs benchmark (`npm run bench:tracefs`): the kernel-sized spec (test/fixtures/kernel-events.json) served by
 * ntrace's tracefs, next to the libfuse3 C peer serving the same events/ paths and the kernel's own tracefs.
 *
 * - heap of the serving thread per event directory: at rest, after `ls -lR` of every instance's tree (the kernel
 *   holds an inode per file), and after drop_caches (FORGETs);
 * - cold (after drop_caches) and warm `find`, `ls -lR`, stat of every file, `cat events/* /* /format`;
 * - mkdir+rmdir of 100 instances (and 20 on the kernel's tracefs).
 *
 *   node --expose-gc dist/bench/tracefs/main.js [--runs N] [--instances K] [--json] [--no-kernel]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineSpec, readSpec } from '../../src/cli/spec.js';
import { mount, type TracefsMount } from '../../src/tracefs/index.js';
import { kernelEventsPath } from '../../test/support/paths.js';
import { buildPeer, startPeer, stopPeer } from '../support/libfuse-peer.js';
import { dropCaches, isMounted, runCleanups, sh, timed } from '../support/shell.js';
import { median } from '../support/stats.js';
import { metadataWorkloads, type WorkloadTarget } from '../support/workloads.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const opt = (name: string, dflt: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const runs = opt('--runs', 10);
const instances = opt('--instances', 10);
const withKernel = !args.includes('--no-kernel');
const log = (s: string) => {
  if (!json) process.stdout.write(`${s}\n`);
};

interface Target extends WorkloadTarget {
  readonly name: string;
}

const workloads = metadataWorkloads('format');

interface Figures {
  eventDirs: number;
  heapBytesPerEventDir: { rest: number; afterLsLR: number; afterDropCaches: number };
  workloads: Record<string, Record<string, number>>;
  instancePairMs: { ntrace: number; kernel?: number };
}

async function heapPerDir(m: TracefsMount): Promise<Figures['heapBytesPerEventDir'] & { dirs: number }> {
  const gc = typeof (globalThis as { gc?: unknown }).gc === 'function';
  if (!gc) log('(run with --expose-gc for exact heap figures)');
  dropCaches();
  const base = await m.stats({ gc: true });
  for (let i = 0; i < instances; i++) mkdirSync(join(m.mountpoint, 'instances', `bench${i}`));
  dropCaches();
  const rest = await m.stats({ gc: true });
  const added = rest.eventDirs - base.eventDirs;
  sh(`ls -lR ${m.mountpoint} > /dev/null`);
  const listed = await m.stats({ gc: true });
  dropCaches();
  const dropped = await m.stats({ gc: true });
  for (let i = 0; i < instances; i++) rmdirSync(join(m.mountpoint, 'instances', `bench${i}`));
  // Per event dir of the instances made: what the heap grew by, over the event dirs they brought.
  const per = (h: number) => (h - base.heapUsedBytes) / added;
  log(
    `heap of the serving thread: ${base.eventDirs} event dirs at start; ${instances} instances add ${added} event dirs` +
      ` (live inodes: rest ${rest.liveInodes}, after ls -lR ${listed.liveInodes}, after drop_caches ${dropped.liveInodes})`,
  );
  return {
    dirs: base.eventDirs,
    rest: per(rest.heapUsedBytes),
    afterLsLR: per(listed.heapUsedBytes),
    afterDropCaches: per(dropped.heapUsedBytes),
  };
}

function instancePairs(root: string, n: number): number {
  const t = timed(
    `cd ${root}/instances && i=0; while [ $i -lt ${n} ]; do mkdir ntb$i && rmdir ntb$i || exit 1; i=$((i+1)); done`,
  );
  return t / n;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the tracefs benchmark needs root (mounts, drop_caches)');
  const work = mkdtempSync(join(tmpdir(), 'ntrace-bench-tracefs-'));
  const dirs = { ntrace: join(work, 'ntrace'), peer: join(work, 'peer'), kernel: join(work, 'kernel') };
  for (const d of Object.values(dirs)) mkdirSync(d);
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    const { events } = defineSpec(readSpec(kernelEventsPath));
    const m = await mount(dirs.ntrace, { mode: 0o755 });
    cleanups.push(() => m.close());
    log(`ntrace: ${events.length} events from ${kernelEventsPath}`);

    const heap = await heapPerDir(m);

    // The same events/ paths for the peer (our listing: 7 files per event, 2 per system, 3 at the top).
    const rel = sh(`cd ${dirs.ntrace}/events && find . -type f`)
      .trim()
      .split('\n')
      .map((p) => p.slice(2))
      .sort();
    const spec = join(work, 'paths.txt');
    writeFileSync(spec, `${rel.join('\n')}\n`);
    const peer = await startPeer(buildPeer(), dirs.peer, spec);
    cleanups.push(() => stopPeer(peer, dirs.peer));
    const targets: Target[] = [];
    for (const [name, dir] of [
      ['ntrace', dirs.ntrace],
      ['peer', dirs.peer],
    ] as const) {
      const fileList = join(work, `${name}.files`);
      writeFileSync(fileList, `${rel.map((p) => `${dir}/events/${p}`).join('\n')}\n`);
      targets.push({ name, events: `${dir}/events`, fileList });
    }
    if (withKernel) {
      const r = spawnSync('mount', ['-t', 'tracefs', 'nodev', dirs.kernel]);
      if (r.status === 0) {
        cleanups.push(() => {
          spawnSync('umount', [dirs.kernel]);
        });
        const fileList = join(work, 'kernel.files');
        sh(`find ${dirs.kernel}/events -type f > ${fileList}`);
        targets.push({ name: 'kernel', events: `${dirs.kernel}/events`, fileList });
      } else log('(kernel tracefs could not be mounted: no kernel column)');
    }

    const results: Record<string, Record<string, number>> = {};
    for (const [wname, cmd] of Object.entries(workloads)) {
      for (const mode of ['cold', 'warm'] as const) {
        const samples: Record<string, number[]> = Object.fromEntries(targets.map((t) => [t.name, []]));
        for (let i = 0; i < runs; i++) {
          for (const t of i % 2 ? [...targets].reverse() : targets) {
            if (mode === 'cold') dropCaches();
            else sh(cmd(t)); // warm the caches
            samples[t.name].push(timed(cmd(t)));
          }
        }
        const row: Record<string, number> = {};
        for (const t of targets) row[t.name] = median(samples[t.name]);
        row.vsPeer = row.ntrace / row.peer;
        if (row.kernel !== undefined) row.vsKernel = row.ntrace / row.kernel;
        results[`${wname}-${mode}`] = row;
        log(
          `${`${wname}-${mode}`.padEnd(16)} ntrace ${row.ntrace.toFixed(1).padStart(7)} ms   peer ${row.peer
            .toFixed(1)
            .padStart(7)} ms${row.kernel !== undefined ? `   kernel ${row.kernel.toFixed(1).padStart(7)} ms` : ''}` +
            `   ntrace/peer ${row.vsPeer.toFixed(2)}${row.vsKernel !== undefined ? `   ntrace/kernel ${row.vsKernel.toFixed(2)}` : ''}`,
        );
      }
    }

    const pairs: Figures['instancePairMs'] = { ntrace: instancePairs(dirs.ntrace, 100) };
    if (withKernel && isMounted(dirs.kernel)) pairs.kernel = instancePairs(dirs.kernel, 20);
    log(
      `mkdir+rmdir of an instance: ntrace ${pairs.ntrace.toFixed(1)} ms a pair (100 pairs)` +
        (pairs.kernel !== undefined ? `, kernel ${pairs.kernel.toFixed(1)} ms a pair (20 pairs)` : ''),
    );
    log(
      `heap per event dir: at rest ${heap.rest.toFixed(0)} B, after ls -lR ${heap.afterLsLR.toFixed(0)} B, after drop_caches ${heap.afterDropCaches.toFixed(0)} B`,
    );
    const figures: Figures = {
      eventDirs: heap.dirs,
      heapBytesPerEventDir: { rest: heap.rest, afterLsLR: heap.afterLsLR, afterDropCaches: heap.afterDropCaches },
      workloads: results,
      instancePairMs: pairs,
    };
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
