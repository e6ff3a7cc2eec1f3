/**
 * What `ntrace/register` does in each thread it is loaded into. The main thread mounts this process's tracefs (at
 * NTRACE_MOUNT, else `<index directory>/<pid>`: /run/ntrace/PID for root, $XDG_RUNTIME_DIR/ntrace/PID or
 * /tmp/ntrace-UID/PID for others) and starts Node's events; a worker thread only starts its own events, named by
 * its thread name. Nothing here may break the application: every failure ends as one line on stderr (none with
 * NTRACE_QUIET=1), nothing is left pending, and nothing keeps the process alive.
 */
import { mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as workerThreads from 'node:worker_threads';
import { ensureIndexDirectory, indexDirectory } from '../discovery/index.js';
import type { TracefsMount } from '../tracefs/index.js';

/** Where the main thread mounts. */
export function registerMountpoint(env: NodeJS.ProcessEnv = process.env): string {
  return env.NTRACE_MOUNT ? resolve(env.NTRACE_MOUNT) : join(indexDirectory(env), String(process.pid));
}

function warn(message: string): void {
  if (process.env.NTRACE_QUIET) return;
  try {
    process.stderr.write(`ntrace: not tracing this process: ${message}\n`);
  } catch {}
}

async function mountHere(): Promise<TracefsMount | undefined> {
  const dir = registerMountpoint();
  let created = false;
  try {
    if (!process.env.NTRACE_MOUNT) ensureIndexDirectory();
    try {
      mkdirSync(dir, { mode: 0o700 });
      created = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    // Loaded only here, so that worker threads do not load the filesystem code.
    const { mount } = await import('../tracefs/index.js');
    // Owned by this process's user (the mount's default is root). No gid: a gid opens the socket to that group as
    // another identity (docs/SOCKET.md), and the owner is all that needs access.
    const m = await mount(dir, { uid: process.getuid?.() ?? 0, mode: 0o700 });
    // Without FUSE, mount() serves the socket alone (and has said so on stderr): the directory stays unused.
    if (!m.fuse && created) {
      created = false;
      rmdirSync(dir);
    }
    // The FUSE layer's own exit hook (registered first, so run first) has unmounted by the time this runs.
    process.on('exit', () => {
      if (created) {
        try {
          rmdirSync(dir);
        } catch {}
      }
    });
    return m;
  } catch (err) {
    if (created) {
      try {
        rmdirSync(dir);
      } catch {}
    }
    warn(((err as Error)?.message ?? String(err)).replace(/^ntrace: /, ''));
    return undefined;
  }
}

/** The main thread shows as the kernel shows the process (its comm, e.g. `node`), not as its full title. */
function processComm(): string {
  try {
    return readFileSync('/proc/self/comm', 'utf8').trim() || 'node';
  } catch {
    return 'node';
  }
}

/** The Worker's `name` (exposed as `threadName` by newer Node versions), else `worker-<threadId>`. */
function threadName(): string {
  const name = (workerThreads as { threadName?: unknown }).threadName;
  return typeof name === 'string' && name !== '' && name !== 'WorkerThread' ? name : `worker-${workerThreads.threadId}`;
}

let registration: Promise<TracefsMount | undefined> | undefined;

/**
 * Registers this thread (once). Settles with the mount in the main thread, undefined elsewhere or on failure.
 * Everything heavy (the engine, Node's events, the mount) is loaded after the application's first turn, so its start
 * is not held up; the timer is unref'd: an application that is already done by then is not traced.
 */
export function register(): Promise<TracefsMount | undefined> {
  // A worker is not started by its user's own hand: its events are set up before its script runs (index.ts awaits).
  const turn = workerThreads.isMainThread
    ? new Promise<void>((resolve) => setImmediate(resolve).unref())
    : Promise.resolve();
  registration ??= turn
    .then(async () => {
      try {
        // Loaded here, not at the top: the register's own import graph stays tiny, so the app starts at once.
        const [{ startNodeEvents }, { setThreadName }] = await Promise.all([
          import('../node/index.js'),
          import('../trace/index.js'),
        ]);
        setThreadName(workerThreads.isMainThread ? processComm() : threadName());
        startNodeEvents();
      } catch (err) {
        warn(`Node events unavailable: ${(err as Error)?.message ?? String(err)}`);
      }
      return workerThreads.isMainThread ? mountHere() : undefined;
    })
    .catch(() => undefined);
  return registration;
}
