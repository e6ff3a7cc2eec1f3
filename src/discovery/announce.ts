/**
 * `announce(entry)`: writes this process's entry into the per-user index, atomically (a temporary file renamed into
 * place), and removes it on `remove()` or when the thread that announced exits. A process killed outright leaves
 * its file behind; `listLive()` prunes it.
 */
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { ensureIndexDirectory } from './directory.js';
import { type Announcement, type DiscoveryEntry, procStartTicks } from './entry.js';

export interface Announced {
  /** The entry as written. */
  readonly entry: Readonly<DiscoveryEntry>;
  /** The entry's file. */
  readonly path: string;
  /** Rewrites the entry with these fields changed (e.g. a socket opened later). */
  update(changes: Announcement): void;
  /** Deletes the entry. Idempotent; never throws. */
  remove(): void;
}

const live = new Set<Handle>();
let sequence = 0;
let exitHook = false;

function ownStartTicks(): string {
  const ticks = procStartTicks(readFileSync('/proc/self/stat', 'utf8'));
  if (ticks === undefined) throw new Error('ntrace: cannot read the start time from /proc/self/stat');
  return ticks;
}

class Handle implements Announced {
  entry: DiscoveryEntry;
  private removed = false;

  constructor(
    readonly path: string,
    entry: DiscoveryEntry,
  ) {
    this.entry = entry;
    write(path, entry);
  }

  update(changes: Announcement): void {
    if (this.removed) return;
    this.entry = { ...this.entry, ...changes, pid: this.entry.pid, startTicks: this.entry.startTicks };
    write(this.path, this.entry);
  }

  remove(): void {
    if (this.removed) return;
    this.removed = true;
    live.delete(this);
    try {
      unlinkSync(this.path);
    } catch {}
  }
}

function write(path: string, entry: DiscoveryEntry): void {
  const tmp = `${path}.${process.pid}-${threadId}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** Adds an entry for this process; fields not given are this process's own. Throws if the index is unusable. */
export function announce(announcement: Announcement = {}, dir?: string): Announced {
  const where = ensureIndexDirectory(dir);
  const entry: DiscoveryEntry = {
    pid: process.pid,
    argv: [process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    startedAt: Math.round(Date.now() - process.uptime() * 1000),
    uid: process.getuid?.() ?? 0,
    ...announcement,
    startTicks: ownStartTicks(),
  };
  entry.pid = process.pid;
  // One file per announcement: a process may serve several mounts, from several threads.
  const handle = new Handle(join(where, `${process.pid}-${threadId}-${sequence++}.json`), entry);
  live.add(handle);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const h of [...live]) h.remove();
    });
  }
  return handle;
}
