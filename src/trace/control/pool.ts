/**
 * SharedArrayBuffers for histogram tables. A hist table needs a buffer of its own (the languages' HistTable
 * addresses it from byte 0), and a buffer created after a thread started can only reach that thread by message —
 * which a busy application thread never reads. So every process reserves a fixed pool of buffers up front and
 * publishes it like the engine's state, through worker environment data: every worker created afterwards holds the
 * same buffers, and a table is named by its pool slot in shared memory.
 *
 * The buffers are growable, created empty: importing ntrace reserves address space only (32 slots of up to 8 MiB —
 * a default `keys=status` table with 64 writer regions takes 4.4 MiB — and 8 of up to 64 MiB for big tables, large
 * `size=` or string keys), and a slot grows to its table's size when a hist trigger takes it; growth is visible to
 * every thread sharing the buffer. Tables view their regions with fixed lengths: V8 reads length-tracking views of
 * a growable buffer about 4x slower (110 vs 28 ns per hist update, measured). A table that does not fit a slot's
 * maximum gets fewer writer regions.
 */
import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';
import { asGrowable, newGrowable } from '../growable.js';

const ENV_KEY = 'ntrace.control-pool.v3';
const SMALL = 8 << 20;
const LARGE = 64 << 20;
/** Byte size of each slot. */
export const POOL_SLOT_BYTES: readonly number[] = [...new Array(32).fill(SMALL), ...new Array(8).fill(LARGE)];
/** Tables that can exist at once (hist triggers and named hists, all instances). */
export const POOL_SLOTS = POOL_SLOT_BYTES.length;

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
    x.sabs.every((b, i) => b instanceof SharedArrayBuffer && asGrowable(b).maxByteLength === POOL_SLOT_BYTES[i])
  );
}

/** This thread's pool: inherited from the creating thread, or made (and published) here. */
export function histPool(): Pool {
  if (pool) return pool;
  const inherited = getEnvironmentData(ENV_KEY);
  if (valid(inherited)) pool = inherited;
  else {
    const sabs: SharedArrayBuffer[] = [];
    for (const bytes of POOL_SLOT_BYTES) sabs.push(newGrowable(0, bytes));
    pool = { tag: (Math.random() * 0x7ffffffe + 1) | 0 || 1, sabs };
    setEnvironmentData(ENV_KEY, pool as never);
  }
  return pool;
}

/**
 * Makes the first `bytes` of slot `i` a zeroed table: grows the slot if needed (new memory is zero) and zeroes what
 * an earlier table wrote (`dirty` bytes); false when the slot's maximum is smaller.
 */
export function prepareSlot(i: number, bytes: number, dirty: number): boolean {
  const buffer = histPool().sabs[i];
  const sab = asGrowable(buffer);
  if (bytes > sab.maxByteLength) return false;
  // Only what was written before: zeroing untouched pages would commit memory nobody uses.
  const used = Math.min(bytes, dirty, sab.byteLength);
  if (used > 0) new Uint8Array(buffer, 0, used).fill(0);
  if (sab.byteLength < bytes) sab.grow(bytes);
  return true;
}
