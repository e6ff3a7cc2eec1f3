/**
 * How many CPUs the machine is configured with, counted as glibc's `sysconf(_SC_NPROCESSORS_CONF)` does: the
 * `cpuN` directories of /sys/devices/system/cpu, else the `possible` mask. `os.cpus()` would count only the online
 * ones. `per_cpu/` shows this many directories from the start, as the kernel's does, so tools that open
 * `per_cpu/cpuN` for every CPU of the machine (trace-cmd) find them all.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const SYS_CPU = '/sys/devices/system/cpu';

export function configuredCpus(): number {
  try {
    const n = readdirSync(SYS_CPU).filter((name) => /^cpu[0-9]+$/.test(name)).length;
    if (n > 0) return n;
  } catch {}
  try {
    const n = countCpuList(readFileSync(`${SYS_CPU}/possible`, 'utf8'));
    if (n > 0) return n;
  } catch {}
  return availableParallelism();
}

/** Counts a kernel CPU list such as `0-3,8,10-11`. */
function countCpuList(text: string): number {
  let n = 0;
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (m) n += (m[2] === undefined ? 0 : Number(m[2]) - Number(m[1])) + 1;
  }
  return n;
}
