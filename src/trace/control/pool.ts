/**
 * SharedArrayBuffers for histogram tables. A hist table needs a buffer of its own (the languages' HistTable
 * addresses it from byte 0), and a buffer created after a thread started can only reach that thread by message —
 * which a busy application thread never reads. So every process reserves a fixed pool of growable buffers up front
 * (address space only: nothing is committed until a table grows one) and publishes it like the engine's state,
 * through worker environment data: every worker created afterwards holds the same buffers, and a table is named
 * by its pool slot in shared memory.
 */
import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';
import { asGrowable, newGrowable } from '../growable.js';

const ENV_KEY = 'ntrace.control-pool.v1';
/** Tables that can exist at once (hist triggers and named hists, all instances). */
export const POOL_SLOTS = 64;
/** Largest table (address space per slot). Bigger `size=` tables get fewer writer regions. */
export const POOL_SLOT_MAX_BYTES = 256 * 1024 * 1024;

export interface Pool {
  /** Random tag: two threads share the pool iff their tags match (checked against the control root). */
  readonly tag: number;
  readonly sabs: readonly SharedArrayBuffer[];
}

let pool: Pool | undefined;

function valid(p: unknown): p is Pool {
  const x = p as Pool | undefined;
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof x.tag === 'number' &&
    Array.isArray(x.sabs) &&
    x.sabs.length === POOL_SLOTS &&
    x.sabs.every((b) => b instanceof SharedArrayBuffer && asGrowable(b).growable)
  );
}

/** This thread's pool: inherited from the creating thread, or made (and published) here. */
export function histPool(): Pool {
  if (pool) return pool;
  const inherited = getEnvironmentData(ENV_KEY);
  if (valid(inherited)) pool = inherited;
  else {
    const sabs: SharedArrayBuffer[] = [];
    for (let i = 0; i < POOL_SLOTS; i++) sabs.push(newGrowable(0, POOL_SLOT_MAX_BYTES));
    pool = { tag: (Math.random() * 0x7ffffffe + 1) | 0 || 1, sabs };
    setEnvironmentData(ENV_KEY, pool as never);
  }
  return pool;
}

/** Makes slot `i` at least `bytes` long and zero over that length; false when it cannot grow. */
export function prepareSlot(i: number, bytes: number): boolean {
  const sab = asGrowable(histPool().sabs[i]);
  if (bytes > sab.maxByteLength) return false;
  try {
    if (sab.byteLength < bytes) sab.grow(bytes);
  } catch {
    return false;
  }
  new Uint8Array(histPool().sabs[i], 0, bytes).fill(0);
  return true;
}
