/**
 * What the shipping parties did during a round, beside their CPU: the shipper's read(2) calls (each a read of a
 * trace_pipe_raw through the mount, answered by the application's serving thread, or of a socket), its wake-ups
 * (voluntary context switches of all its threads: each is a sleep that ended) and the ClickHouse server's inserts.
 * Counts per second show the fixed costs that CPU per event hides.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** read(2)-family calls (`syscr` of /proc/PID/io) of a process, all threads; 0 when it is gone. */
export function readCalls(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    return Number(/^syscr: (\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Voluntary context switches of all of a process's threads (each one a wait that ended: a wake-up). */
export function wakeUps(pid: number | undefined): number {
  if (!pid) return 0;
  let n = 0;
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  for (const tid of tids) {
    try {
      n += Number(
        /^voluntary_ctxt_switches:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))?.[1],
      );
    } catch {
      // the thread ended
    }
  }
  return n;
}

/** The server's insert queries and inserted rows so far (its system.events counters). */
export async function serverInserts(
  query: (sql: string) => Promise<string>,
): Promise<{ inserts: number; rows: number }> {
  const text = await query(
    "SELECT event, value FROM system.events WHERE event IN ('InsertQuery', 'InsertedRows')",
  ).catch(() => '');
  const out = { inserts: 0, rows: 0 };
  for (const line of text.split('\n')) {
    const [k, v] = line.split('\t');
    if (k === 'InsertQuery') out.inserts = Number(v);
    if (k === 'InsertedRows') out.rows = Number(v);
  }
  return out;
}
