/**
 * Supplementary groups of a request's caller: only in /proc/<pid>/status, so they are read when an op first asks
 * (most never do; see ./request-context.ts) and cached briefly per pid.
 */
import { readFileSync } from 'node:fs';

const CACHE_MS = 1000;
const CACHE_MAX = 1024;

interface Cached {
  readonly groups: readonly number[];
  readonly until: number;
}

export class GroupCache {
  private readonly byPid = new Map<number, Cached>();

  groupsOf(pid: number): readonly number[] {
    if (pid === 0) return []; // kernel-originated requests (forget, release after exit) have no process
    const now = Date.now();
    const hit = this.byPid.get(pid);
    if (hit && hit.until > now) return hit.groups;
    const groups = readGroups(pid);
    if (this.byPid.size >= CACHE_MAX) this.byPid.clear();
    this.byPid.set(pid, { groups, until: now + CACHE_MS });
    return groups;
  }
}

function readGroups(pid: number): readonly number[] {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return []; // the process is gone (or not visible): no supplementary groups to grant anything
  }
  const at = status.indexOf('\nGroups:');
  if (at < 0) return [];
  const end = status.indexOf('\n', at + 1);
  const list = status.slice(at + 8, end < 0 ? undefined : end).trim();
  if (list === '') return [];
  return list.split(/\s+/).map(Number);
}
