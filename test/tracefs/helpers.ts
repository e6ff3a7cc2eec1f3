/** Mounting ntrace's tracefs in tests, and running shell commands against it. */
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';
import { type MountOptions, mount, type TracefsMount } from '../../src/tracefs/index.js';
import { tempMountpoint } from '../support/mount.js';

/** A tracefs mount unmounted after the test, whatever happens. */
export async function mountTracefs(t: TestContext, options: MountOptions = {}): Promise<TracefsMount> {
  let m: TracefsMount | undefined;
  const dir = tempMountpoint(t, () => m?.close() ?? Promise.resolve());
  m = await mount(dir, options);
  return m;
}

export interface ShellResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs a shell script (synchronously: the mount is served by another thread). */
export function sh(script: string, cwd?: string, timeout = 20_000): ShellResult {
  const r = spawnSync('sh', ['-c', script], { encoding: 'utf8', timeout, cwd });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
}

/** Runs a shell script, failing with its stderr unless it succeeds; returns stdout. */
export function ok(script: string, cwd?: string): string {
  const r = sh(script, cwd);
  if (r.code !== 0) throw new Error(`\`${script}\` failed (${r.code}): ${r.err}`);
  return r.out;
}

/** Unique event system names per test file (the engine's registry is process-wide). */
let serial = 0;
export function uniqueSystem(prefix: string): string {
  return `${prefix}${process.pid % 10000}_${++serial}`;
}
