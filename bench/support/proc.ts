/** What benchmarks read from /proc: CPU time by process and thread, and whether a path is mounted. */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** µs per clock tick of /proc's utime and stime (CLK_TCK, 100 on most systems but asked, not assumed). */
const TICK_US = 1e6 / (Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100);

/** utime + stime (µs) of one /proc stat file, or NaN when it is gone. */
function statMicros(file: string): number {
  try {
    const stat = readFileSync(file, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_US;
  } catch {
    return Number.NaN;
  }
}

/** CPU time (µs, user + system) a process has used so far, all its threads (0 for no process). */
export function processCpuMicros(pid: number | undefined): number {
  if (!pid) return 0;
  const us = statMicros(`/proc/${pid}/stat`);
  return Number.isNaN(us) ? 0 : us;
}

/** CPU time (µs) of a process's threads: its main thread (tid = pid) and all the others together. */
export function threadCpuMicros(pid: number | undefined): { main: number; others: number } {
  const out = { main: 0, others: 0 };
  if (!pid) return out;
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    const us = statMicros(`/proc/${pid}/task/${tid}/stat`);
    if (Number.isNaN(us)) continue; // the thread ended
    if (tid === String(pid)) out.main += us;
    else out.others += us;
  }
  return out;
}

/**
 * Nanoseconds a thread has run on a CPU (/proc/…/schedstat), not counting time it waited runnable: a thread's own
 * cost apart from time lost to other threads wanting the same cores.
 */
export function threadOnCpuNs(pid: number, tid: number = pid): number {
  return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
}
