/** One live ntrace process as the index describes it. */
export interface DiscoveryEntry {
  pid: number;
  /** The process's command line (`process.argv` with the node binary first). */
  argv: string[];
  /** Absolute path of a tracefs mount this process serves. */
  mount?: string;
  /** Unix socket this process serves its tree on (see src/client/). */
  socket?: string;
  /** When the process started, in ms since the epoch. */
  startedAt: number;
  uid: number;
  /**
   * The process's start time as the kernel reports it (field 22 of /proc/PID/stat, clock ticks since boot): with the
   * pid, it names the process even after the pid is reused.
   */
  startTicks: string;
}

/** What a caller gives `announce()`; the rest is this process's own. */
export type Announcement = Partial<DiscoveryEntry>;

/** Field 22 of /proc/PID/stat, or undefined when the process is gone. The command name may contain spaces or ')'. */
export function procStartTicks(stat: string): string | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  // After ") " come fields 3..; starttime is field 22, i.e. index 19 of that list.
  return stat.slice(close + 2).split(' ')[19];
}

/** A parsed entry file, or undefined if it is not one of ours. */
export function parseEntry(text: string): DiscoveryEntry | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  const e = v as DiscoveryEntry;
  if (
    typeof e !== 'object' ||
    e === null ||
    !Number.isInteger(e.pid) ||
    !Array.isArray(e.argv) ||
    !e.argv.every((a) => typeof a === 'string') ||
    typeof e.startedAt !== 'number' ||
    !Number.isInteger(e.uid) ||
    typeof e.startTicks !== 'string' ||
    (e.mount !== undefined && typeof e.mount !== 'string') ||
    (e.socket !== undefined && typeof e.socket !== 'string')
  )
    return undefined;
  return e;
}
