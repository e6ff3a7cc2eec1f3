/**
 * Shipping asked for by the environment, for processes started with `ntrace/register` (or any mount() without a
 * `ship` option): `NTRACE_CLICKHOUSE=URL[,URL…]` turns it on; `NTRACE_SHIP_EVENTS=sys[:event],…` chooses events
 * (default all), `NTRACE_SHIP_FILTER`, `NTRACE_SHIP_DATABASE`, `NTRACE_SHIP_CLUSTER`, `NTRACE_SERVICE` (default the
 * script's name), `NTRACE_SHIP_SPOOL` (directory), `NTRACE_SHIP_BATCH_MS` (a batch's time bound) refine it.
 */
import { basename } from 'node:path';
import type { ShipOptions } from './shipper.js';

export function shipOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ShipOptions | undefined {
  const url = env.NTRACE_CLICKHOUSE;
  if (!url) return undefined;
  const events = env.NTRACE_SHIP_EVENTS?.split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  // A nice value the kernel takes (-20..19); anything else is ignored, as an unknown variable would be.
  const nice = /^-?\d+$/.test(env.NTRACE_SHIP_NICE ?? '') ? Number(env.NTRACE_SHIP_NICE) : undefined;
  const batchMs = /^[1-9][0-9]*$/.test(env.NTRACE_SHIP_BATCH_MS ?? '') ? Number(env.NTRACE_SHIP_BATCH_MS) : undefined;
  const script = process.argv[1] ? basename(process.argv[1]).replace(/\.[cm]?[jt]s$/, '') : 'node';
  return {
    clickhouse: url,
    ...(events && events.length > 0 ? { events } : {}),
    ...(env.NTRACE_SHIP_FILTER ? { filter: env.NTRACE_SHIP_FILTER } : {}),
    ...(env.NTRACE_SHIP_DATABASE ? { database: env.NTRACE_SHIP_DATABASE } : {}),
    ...(env.NTRACE_SHIP_CLUSTER ? { cluster: env.NTRACE_SHIP_CLUSTER } : {}),
    ...(env.NTRACE_SHIP_SPOOL ? { spoolDir: env.NTRACE_SHIP_SPOOL } : {}),
    ...(nice !== undefined ? { nice } : {}),
    ...(batchMs !== undefined ? { batchMs } : {}),
    service: env.NTRACE_SERVICE || script,
  };
}
