/** Shell and mount helpers the filesystem benchmarks share (they run as root: mounts, drop_caches). */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/**
 * What happens to a command's stdout: `'return'` pipes it back to us (as a string), `'discard'` sends it to
 * /dev/null, so a workload whose output nobody reads pays nothing for a pipe.
 */
export type Stdout = 'return' | 'discard';

/** `sh -c cmd`; throws with the command's stderr on a non-zero exit. Returns its stdout ('' when discarded). */
export function sh(cmd: string, stdout: Stdout = 'return'): string {
  const r = spawnSync('sh', ['-c', cmd], {
    stdio: ['ignore', stdout === 'return' ? 'pipe' : 'ignore', 'pipe'],
    encoding: 'utf8',
    // A listing of a whole kernel-sized tree is far larger than the 1 MiB default.
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`${cmd}: exit ${r.status}: ${r.stderr}`);
  return r.stdout ?? '';
}

/** Wall time of `sh(cmd)` in ms. */
export function timed(cmd: string, stdout: Stdout = 'return'): number {
  const t = performance.now();
  sh(cmd, stdout);
  return performance.now() - t;
}

/** Blocks the thread: the servers under test run on other threads or processes and keep going. */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Drop dentries and inodes, then give the servers a moment to take the resulting FORGETs, so a cold run measures
 * the workload and not the previous run's cleanup (the pause is the same for every target).
 */
export function dropCaches(): void {
  writeFileSync('/proc/sys/vm/drop_caches', '2');
  pause(100);
}

/** Whether `path` is a mount point of this process's mount namespace. */
export function isMounted(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === path);
}

/** Polls `check` every 20 ms for up to `ms`; resolves to whether it became true in time. */
export async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** A benchmark's set-up steps undone in reverse order, whatever happened; a step that fails is said, the rest run. */
export async function runCleanups(cleanups: (() => Promise<void> | void)[]): Promise<void> {
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch (err) {
      process.stderr.write(`cleanup: ${(err as Error).message ?? err}\n`);
    }
  }
}
