/**
 * trace-cmd finds a tracing directory only in /proc/mounts (fstype exactly `tracefs`) or through libtracefs'
 * `tracefs_set_tracing_dir()`; an ntrace mount is a FUSE mount. The shim, preloaded into trace-cmd, calls that
 * function with $NTRACE_TRACING_DIR. It is compiled once per user and source version with the system's `cc` and
 * cached in $XDG_CACHE_HOME/ntrace (default ~/.cache/ntrace).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SHIM_SOURCE } from './shim-source.js';

export class ShimError extends Error {
  override readonly name = 'ShimError';
}

export function shimCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ntrace');
}

/** The shim's path, compiling it first if this source version was never built for this user. */
export function ensureShim(cacheDir = shimCacheDir()): string {
  const tag = createHash('sha256').update(SHIM_SOURCE).digest('hex').slice(0, 16);
  const so = join(cacheDir, `tracefs-dir-${tag}.so`);
  if (existsSync(so)) return so;
  mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  const src = join(cacheDir, `tracefs-dir-${tag}.${process.pid}.c`);
  const tmp = `${so}.${process.pid}.tmp`;
  writeFileSync(src, SHIM_SOURCE);
  try {
    const cc = process.env.CC || 'cc';
    const r = spawnSync(cc, ['-shared', '-fPIC', '-O2', '-o', tmp, src, '-ldl'], { encoding: 'utf8' });
    if (r.error)
      throw new ShimError(
        `ntrace trace-cmd needs a C compiler to build its small preload shim once ('${cc}': ${r.error.message}); install gcc (Debian: apt-get install gcc libc6-dev)`,
      );
    if (r.status !== 0) throw new ShimError(`building the trace-cmd shim with '${cc}' failed:\n${r.stderr}`);
    renameSync(tmp, so); // atomic: a concurrent first use sees a whole file or none
    return so;
  } finally {
    rmSync(src, { force: true });
    rmSync(tmp, { force: true });
  }
}
