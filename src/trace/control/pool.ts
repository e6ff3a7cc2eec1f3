/**
 * The hist table pool: SharedArrayBuffers for histogram tables, part of the engine's shared state
 * (`SharedHandles.histSlots`). A hist table needs a buffer of its own (the languages' HistTable addresses it from
 * byte 0), and a buffer created after a thread started can only reach that thread by message — which a busy
 * application thread never reads — so the state carries a fixed pool of slots, created with it: every thread that
 * shares the state (inherited through worker environment data, or attached by hand) holds the same buffers, and a
 * table is named by its pool slot in shared memory.
 *
 * The buffers are growable, created empty: the state reserves address space only (shared-state.ts,
 * HIST_SLOT_BYTES), and a slot grows to its table's size when a hist trigger takes it; growth is visible to every
 * thread sharing the buffer. Tables view their regions with fixed lengths: V8 reads length-tracking views of a
 * growable buffer about 4x slower (110 vs 28 ns per hist update, measured). A table that does not fit a slot's
 * maximum gets fewer writer regions.
 */
import { asGrowable } from '../growable.js';
import { HIST_SLOT_BYTES, shared } from '../shared-state.js';

/** Byte size of each slot. */
export const POOL_SLOT_BYTES = HIST_SLOT_BYTES;
/** Tables that can exist at once (hist triggers and named hists, all instances). */
export const POOL_SLOTS = POOL_SLOT_BYTES.length;

/** This thread's pool slots: those of the engine state it shares. */
export function histSlots(): readonly SharedArrayBuffer[] {
  return shared().handles.histSlots;
}

/**
 * Makes the first `bytes` of slot `i` a zeroed table: grows the slot if needed (new memory is zero) and zeroes what
 * an earlier table wrote (`dirty` bytes); false when the slot's maximum is smaller.
 */
export function prepareSlot(i: number, bytes: number, dirty: number): boolean {
  const buffer = histSlots()[i];
  const sab = asGrowable(buffer);
  if (bytes > sab.maxByteLength) return false;
  // Only what was written before: zeroing untouched pages would commit memory nobody uses.
  const used = Math.min(bytes, dirty, sab.byteLength);
  if (used > 0) new Uint8Array(buffer, 0, used).fill(0);
  if (sab.byteLength < bytes) sab.grow(bytes);
  return true;
}
