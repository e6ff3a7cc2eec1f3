/**
 * For tests that kill serving processes: waits that are always bounded, and the clean-up of a process that hangs in
 * a request to its own mount (issue 16): only ending its FUSE connection from outside lets it die.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { abortConnection, connectionsAt } from '../../src/fuse/connection-id.js';

export interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** How the process ended, or undefined if it has not within `ms`. */
export function exitWithin(proc: ChildProcess, ms: number): Promise<Ended | undefined> {
  if (proc.exitCode !== null || proc.signalCode !== null) {
    return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode as NodeJS.Signals | null });
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      proc.off('exit', onExit);
      resolve(undefined);
    }, ms);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      resolve({ code, signal });
    };
    proc.once('exit', onExit);
  });
}

/** End every ntrace connection at `mountpoint`, detach it, and kill `proc`: whatever state it was left in. */
export async function forceEnd(mountpoint: string, proc?: ChildProcess): Promise<void> {
  for (const id of connectionsAt(mountpoint)) abortConnection(id);
  while (connectionsAt(mountpoint).length > 0) {
    if (spawnSync('umount', ['-l', mountpoint]).status !== 0) break;
  }
  if (proc && proc.exitCode === null && proc.signalCode === null) {
    proc.kill('SIGKILL');
    await exitWithin(proc, 5000);
  }
}
