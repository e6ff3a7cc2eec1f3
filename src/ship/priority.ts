/**
 * The shipping process's CPU priority. Shipping is background work beside an application: at a nice value above the
 * application's, the scheduler gives it the CPU the application leaves, and while the application is busy the
 * instance's rings hold what the shipper has not read yet (16 MiB a thread by default; an overwrite is a `lost` row).
 */
import { readdirSync } from 'node:fs';
import os from 'node:os';

/** The nice value of the `ntrace ship` child a mount starts, unless `ShipOptions.nice` says otherwise. */
export const CHILD_NICE = 19;

/**
 * Sets this process's nice value, every thread of it: Linux keeps a nice value per thread (setpriority on a pid sets
 * that one thread), and V8's and libuv's threads started before this call would keep theirs; threads started after
 * it inherit it from the thread that makes them. Raising the value needs no privilege; lowering it back does.
 */
export function setOwnNice(nice: number): void {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    tids = [String(process.pid)];
  }
  for (const tid of tids) {
    try {
      os.setPriority(Number(tid), nice);
    } catch {
      // The thread ended meanwhile, or a nice value below the current one was refused (EACCES): left as it was.
    }
  }
}
