/**
 * `listLive()`: the entries of processes that are still running, oldest first. An entry whose pid is gone, or now
 * names another process (its start time differs), is deleted on the way, together with the default mount directory
 * it left behind (`<index>/<pid>`, only if empty and no longer mounted: rmdir refuses anything else) and its socket
 * when that lies in the index directory.
 */
import { lstatSync, readdirSync, readFileSync, rmdirSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { indexDirectory } from './directory.js';
import { type DiscoveryEntry, parseEntry, procStartTicks } from './entry.js';

/** Does process `pid` exist (ours, or another user's: EPERM)? A pid can be reused; `isAlive` also checks identity. */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Is the process that wrote `entry` still this pid? */
export function isAlive(entry: Pick<DiscoveryEntry, 'pid' | 'startTicks'>): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${entry.pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  return procStartTicks(stat) === entry.startTicks;
}

export function listLive(dir = indexDirectory()): DiscoveryEntry[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const entries: DiscoveryEntry[] = [];
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    const path = join(dir, name);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue; // removed meanwhile
    }
    const entry = parseEntry(text);
    if (entry && isAlive(entry)) {
      entries.push(entry);
      continue;
    }
    try {
      unlinkSync(path);
    } catch {}
    if (entry && entry.mount === join(dir, String(entry.pid))) {
      try {
        rmdirSync(entry.mount);
      } catch {}
    }
    // Its socket too, when it lies in the index directory (the default place): nobody listens there any more.
    if (entry?.socket && dirname(entry.socket) === dir) {
      try {
        if (lstatSync(entry.socket).isSocket()) unlinkSync(entry.socket);
      } catch {}
    }
  }
  return entries.sort((a, b) => a.startedAt - b.startedAt || a.pid - b.pid);
}
