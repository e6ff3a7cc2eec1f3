/**
 * The control plane's shared memory: one root block in the engine's arena, found through a reserved engine header
 * word, so every thread that shares the engine finds it without messages. It holds
 *
 *   - per instance, a table of 32768 words: (instance, event) → arena offset of the event's control blob (the
 *     filter text and trigger specs as JSON, see blob.ts), read by emitting threads when the engine's
 *     (instance, event) generation moves;
 *   - per instance, the snapshot ring table (snapshot.ts);
 *   - the allocation state of the hist table pool (pool.ts) and of trigger count cells (BigInt64, shared by every
 *     thread that fires the trigger, so `:N` counts down exactly once per firing across threads).
 *
 * Writers (the control thread: the filesystem thread, or a test playing it) serialize on the root's lock.
 * Blobs are rewritten in place under a sequence lock (odd while writing) and replaced when they must grow; readers
 * copy and re-check the sequence, so a reader never waits for a writer that was descheduled.
 */
import { arenaAlloc, arenaFree } from '../arena.js';
import { context } from '../context.js';
import { withLock } from '../lock.js';
import { HEADER_WORDS, MAX_EVENTS, MAX_INSTANCES, type SharedState } from '../shared-state.js';
import { POOL_SLOT_BYTES, POOL_SLOTS } from './pool.js';

/**
 * Engine header word holding the root's arena byte offset (0 until the first control write). The engine uses
 * words 0-24 of its 64; the last one is the control plane's.
 */
export const H_CONTROL_ROOT = HEADER_WORDS - 1;

const MAGIC = 0x6e63746c; // "nctl"
const W_MAGIC = 0;
const W_LOCK = 1;
const W_BLOB_TABLES = 16;
const W_SNAP_TABLES = W_BLOB_TABLES + MAX_INSTANCES;
const W_POOL_STATE = W_SNAP_TABLES + MAX_INSTANCES;
/** Per pool slot: bytes a table ever used (only those need zeroing for the next one; the rest is untouched). */
const W_POOL_DIRTY = W_POOL_STATE + 64;
export const COUNT_CELLS = 4096;
const W_CELL_STATE = 256;
const CELLS_BYTE = (W_CELL_STATE + COUNT_CELLS) * 4;
const ROOT_BYTES = CELLS_BYTE + COUNT_CELLS * 8;

/** Slot/cell states: FREE, IN_USE, or a positive "reusable after" time in seconds (a grace period). */
const FREE = 0;
const IN_USE = -1;
const GRACE_SECONDS = 2;

const BLOB_HEADER = 16;
const B_SEQ = 0;
const B_CAP = 1;
const B_LEN = 2;

export interface ControlRoot {
  readonly s: SharedState;
  readonly off: number;
  readonly w: Int32Array;
  readonly cells: BigInt64Array;
}

let cached: ControlRoot | undefined;

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function view(s: SharedState, off: number): ControlRoot {
  const w = new Int32Array(s.handles.arena, off, ROOT_BYTES / 4);
  return {
    s,
    off,
    w,
    cells: new BigInt64Array(s.handles.arena, off + CELLS_BYTE, COUNT_CELLS),
  };
}

/** The root if some thread created it, else undefined (emitting threads never create it). */
export function findRoot(): ControlRoot | undefined {
  if (cached) return cached;
  const s = context().s;
  const off = Atomics.load(s.header, H_CONTROL_ROOT);
  if (off === 0) return undefined;
  const r = view(s, off);
  if (Atomics.load(r.w, W_MAGIC) !== MAGIC) return undefined;
  cached = r;
  return r;
}

/** The root, created on first use (control side). Undefined only when the arena is exhausted. */
export function root(): ControlRoot | undefined {
  const have = findRoot();
  if (have) return have;
  const s = context().s;
  const off = arenaAlloc(s, ROOT_BYTES);
  if (off === 0) return undefined;
  new Uint8Array(s.handles.arena, off, ROOT_BYTES).fill(0);
  const w = new Int32Array(s.handles.arena, off, ROOT_BYTES / 4);
  Atomics.store(w, W_MAGIC, MAGIC);
  if (Atomics.compareExchange(s.header, H_CONTROL_ROOT, 0, off) !== 0) arenaFree(s, off, ROOT_BYTES);
  return findRoot();
}

export function withRootLock<T>(r: ControlRoot, fn: () => T): T {
  return withLock(r.w, W_LOCK, fn);
}

// ---------- blobs ----------

/**
 * The per-instance table of `words` Int32 words whose arena offset the root keeps at `word`; with `create`, allocated
 * zeroed when missing. Undefined when missing (and not created), or when the arena is full.
 */
function instanceTable(r: ControlRoot, word: number, words: number, create: boolean): Int32Array | undefined {
  let off = Atomics.load(r.w, word);
  if (off === 0) {
    if (!create) return undefined;
    off = arenaAlloc(r.s, words * 4);
    if (off === 0) return undefined;
    new Uint8Array(r.s.handles.arena, off, words * 4).fill(0);
    Atomics.store(r.w, word, off);
  }
  return new Int32Array(r.s.handles.arena, off, words);
}

function blobTable(r: ControlRoot, instance: number, create: boolean): Int32Array | undefined {
  return instanceTable(r, W_BLOB_TABLES + instance, MAX_EVENTS, create);
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** Publishes the blob of (instance, event) (control side, under the root lock). False when memory ran out. */
export function writeBlob(r: ControlRoot, instance: number, id: number, text: string): boolean {
  const table = blobTable(r, instance, true);
  if (!table) return false;
  const bytes = utf8.encode(text);
  const arena = r.s.handles.arena;
  const old = Atomics.load(table, id);
  const oldW = old ? new Int32Array(arena, old, BLOB_HEADER / 4) : undefined;
  if (oldW && oldW[B_CAP] >= bytes.length) {
    Atomics.add(oldW, B_SEQ, 1);
    oldW[B_LEN] = bytes.length;
    new Uint8Array(arena, old + BLOB_HEADER, bytes.length).set(bytes);
    Atomics.add(oldW, B_SEQ, 1);
    return true;
  }
  const cap = Math.max(4096, Math.ceil((bytes.length + BLOB_HEADER) / 4096) * 4096) - BLOB_HEADER;
  const off = arenaAlloc(r.s, cap + BLOB_HEADER);
  if (off === 0) return false;
  const w = new Int32Array(arena, off, BLOB_HEADER / 4);
  w[B_SEQ] = 0;
  w[B_CAP] = cap;
  w[B_LEN] = bytes.length;
  new Uint8Array(arena, off + BLOB_HEADER, bytes.length).set(bytes);
  Atomics.store(table, id, off);
  // A reader that loaded the old offset a moment ago finishes within the arena's grace period.
  if (oldW) arenaFree(r.s, old, oldW[B_CAP] + BLOB_HEADER);
  return true;
}

/** The blob text of (instance, event), or undefined when none was ever published (any thread). */
export function readBlob(r: ControlRoot, instance: number, id: number): string | undefined {
  const table = blobTable(r, instance, false);
  if (!table) return undefined;
  const off = Atomics.load(table, id);
  if (off === 0) return undefined;
  const arena = r.s.handles.arena;
  const w = new Int32Array(arena, off, BLOB_HEADER / 4);
  for (let tries = 0; tries < 10000; tries++) {
    const seq = Atomics.load(w, B_SEQ);
    if (seq & 1) continue;
    const len = Math.min(Math.max(0, w[B_LEN]), w[B_CAP]);
    const copy = new Uint8Array(arena, off + BLOB_HEADER, len).slice();
    if (Atomics.load(w, B_SEQ) === seq) return fromUtf8.decode(copy);
  }
  return undefined;
}

/** Forgets every blob of an instance (it was destroyed; its index may be reused). Control side, under the lock. */
export function dropBlobs(r: ControlRoot, instance: number): void {
  const table = blobTable(r, instance, false);
  if (!table) return;
  for (let id = 0; id < MAX_EVENTS; id++) {
    const off = table[id];
    if (off === 0) continue;
    Atomics.store(table, id, 0);
    arenaFree(r.s, off, new Int32Array(r.s.handles.arena, off, BLOB_HEADER / 4)[B_CAP] + BLOB_HEADER);
  }
}

// ---------- snapshot tables ----------

/** Words of an instance's snapshot table: [allocated, instance generation, pad…, ring base per CPU…]. */
export const SNAP_HEADER_WORDS = 16;

export function snapshotTable(r: ControlRoot, instance: number, create: boolean, cpus: number): Int32Array | undefined {
  return instanceTable(r, W_SNAP_TABLES + instance, SNAP_HEADER_WORDS + cpus, create);
}

// ---------- pool slots and count cells ----------

function takeFrom(w: Int32Array, base: number, n: number): number {
  const now = nowSeconds();
  for (let i = 0; i < n; i++) {
    const st = w[base + i];
    if (st === FREE || (st > 0 && now >= st)) {
      w[base + i] = IN_USE;
      return i;
    }
  }
  return -1;
}

/**
 * A free hist pool slot for a table of `bytes` (the smallest that fits, else the largest free one), or -1
 * (control side, under the lock).
 */
export function takePoolSlot(r: ControlRoot, bytes: number): number {
  const now = nowSeconds();
  let best = -1;
  for (let i = 0; i < POOL_SLOTS; i++) {
    const st = r.w[W_POOL_STATE + i];
    if (st !== FREE && !(st > 0 && now >= st)) continue;
    const size = POOL_SLOT_BYTES[i];
    const bestSize = best < 0 ? 0 : POOL_SLOT_BYTES[best];
    if (best < 0 || (size >= bytes ? bestSize < bytes || size < bestSize : size > bestSize)) best = i;
  }
  if (best >= 0) r.w[W_POOL_STATE + best] = IN_USE;
  return best;
}

/** Bytes of pool slot `slot` a previous table may have written (control side, under the lock). */
export function poolSlotDirty(r: ControlRoot, slot: number): number {
  return r.w[W_POOL_DIRTY + slot];
}

export function setPoolSlotDirty(r: ControlRoot, slot: number, bytes: number): void {
  r.w[W_POOL_DIRTY + slot] = Math.max(r.w[W_POOL_DIRTY + slot], bytes);
}

/** Returns a pool slot; `published` slots wait out a grace period (an emitting thread may still be writing). */
export function releasePoolSlot(r: ControlRoot, slot: number, published: boolean): void {
  r.w[W_POOL_STATE + slot] = published ? nowSeconds() + GRACE_SECONDS : FREE;
}

/** A free count cell set to `value`, or -1 (control side, under the lock). */
export function takeCell(r: ControlRoot, value: bigint): number {
  const c = takeFrom(r.w, W_CELL_STATE, COUNT_CELLS);
  if (c >= 0) Atomics.store(r.cells, c, value);
  return c;
}

export function releaseCell(r: ControlRoot, cell: number): void {
  r.w[W_CELL_STATE + cell] = nowSeconds() + GRACE_SECONDS;
}
