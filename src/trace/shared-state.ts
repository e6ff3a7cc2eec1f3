/**
 * The engine's shared memory: the SharedArrayBuffers every thread of the process attaches to.
 *
 * - `control` (fixed size): header words, the event table (status, definition offset, combined enable flag),
 *   the instance table, per-(instance, event) state words, the ring table and the thread ("CPU") table.
 * - `registry` (growable): append-only serialized event definitions.
 * - `arena` (growable): ring buffers, allocated by any thread (see arena.ts).
 * - `histSlots` (growable, created empty): the control plane's hist table pool (control/pool.ts).
 *
 * The first thread that needs the engine creates them and publishes them with `setEnvironmentData`, so worker
 * threads created afterwards attach to the same state. A thread created earlier can be handed the buffers
 * explicitly (`sharedHandles()` → postMessage → `attachSharedState()`). docs/TRACE-ENGINE.md draws the map.
 * `node:worker_threads` (≈ 5 ms of Node's own modules) loads on first use, not when ntrace is imported.
 */
import { asGrowable, newGrowable } from './growable.js';

export const MAGIC = 0x6e747263; // "ntrc"
export const VERSION = 1;
const ENV_KEY = 'ntrace.shared-state.v2';

/** Event ids: u16 common_type; user events start above the built-ins. */
export const MAX_EVENTS = 32768;
export const FIRST_USER_EVENT_ID = 100;
export const MAX_INSTANCES = 64;
/** Emitting threads over the process lifetime (ids are not reused). */
export const MAX_CPUS = 1024;

// ---- header words (Int32 indexes into control) ----
export const H_MAGIC = 0;
export const H_VERSION = 1;
export const H_REG_LOCK = 2;
/** Bumped on every registry change (define/remove). */
export const H_REG_GEN = 3;
export const H_NEXT_ID = 4;
export const H_NEXT_CPU = 5;
/** Bumped when instances are created/destroyed or their rings are replaced: emitters re-read their tables. */
export const H_CONFIG_GEN = 6;
export const H_INST_LOCK = 7;
export const H_ARENA_LOCK = 8;
/** Where emitters ring the doorbell: 0 = the engine's own word H_DOORBELL, 1 = a control word, 2 = an arena word. */
export const H_WAKE_KIND = 9;
export const H_WAKE_INDEX = 10;
/** Non-zero while someone wants to hear about registry changes. */
export const H_REG_WAITERS = 11;
export const H_DOORBELL = 12;
export const H_ARENA_TOP = 13;
export const H_FREE_COUNT = 14;
/** Problems counted by emit (never thrown): bad values, truncated strings/arrays, internal errors. */
export const H_BAD_VALUES = 15;
export const H_TRUNCATED = 16;
export const H_INTERNAL_ERRORS = 17;
export const H_INSTANCE_GEN = 18;
/** Random tag of this shared state: two threads share state iff their tags match. */
export const H_UID = 19;
/** Source of ring ids (a ring's id changes whenever its memory is reused). */
export const H_RING_UID = 24;
/** Entries in the registry log (see eventLog). */
export const H_REG_LOG_COUNT = 25;
/** Byte offset of the BigInt64 `counter` clock (words 20-21). */
export const COUNTER_BYTE = 20 * 4;
/** Words 26-62 are free; word 63 (HEADER_WORDS - 1) belongs to the control plane (src/trace/control: H_CONTROL_ROOT). */
export const HEADER_WORDS = 64;

// ---- event table ----
export const EV_FREE = 0;
export const EV_LIVE = 1;
export const EV_REMOVED = 2;
/** Transient: `remove()` is checking whether the event is busy (readers treat it as live; see event-status.ts). */
export const EV_REMOVING = 3;
/** Registry log entries: a definition logs its id, a removal logs id | LOG_REMOVED. */
export const LOG_REMOVED = 1 << 16;
/** Every id is defined once and removed at most once. */
export const EVENT_LOG_MAX = 2 * MAX_EVENTS;

/**
 * Combined per-event word read by `enabled`: (instances recording it) << 8 | soft bits. Soft bits are for the
 * control languages (a trigger anywhere keeps the event "enabled" without recording).
 */
export const COMBINED_RECORDING_UNIT = 1 << 8;
export const SOFT_TRIGGER = 1 << 0;

// ---- per-(instance, event) state word bits ----
export const IE_ENABLED = 1 << 0;
/**
 * For the control plane: the kernel's SOFT_MODE, trigger and filter presence. The kernel's SOFT_DISABLED is
 * "soft mode and not IE_ENABLED" (IE_ENABLED means recording); bit 2 is unused.
 */
export const IE_SOFT_MODE = 1 << 1;
export const IE_TRIGGER = 1 << 3;
export const IE_FILTER = 1 << 4;

// ---- instance table: INST_WORDS Int32 words per instance ----
export const INST_WORDS = 32;
export const I_STATE = 0; // 0 free, 1 live, 2 being created/destroyed
export const I_GEN = 1;
export const I_TRACING_ON = 2;
export const I_BUFFER_KB = 3;
export const I_CLOCK = 4;
export const I_OPTIONS = 5;
/** Non-zero while a reader sleeps waiting for data of this instance (one-shot: the emitter clears it). */
export const I_WAITERS = 6;
export const I_NAME_LEN = 7;
export const I_NAME = 8; // 24 words = 96 bytes of UTF-8
export const INSTANCE_NAME_MAX = 96;
export const INST_FREE = 0;
export const INST_LIVE = 1;
export const INST_BUSY = 2;

// ---- thread ("CPU") table: CPU_WORDS words per cpu ----
export const CPU_WORDS = 16;
export const C_STATE = 0; // 0 free, 1 live
export const C_THREAD_ID = 1;
export const C_NAME_GEN = 2;
export const C_NAME_LEN = 3;
export const C_NAME = 4; // 12 words = 48 bytes
export const CPU_NAME_MAX = 48;

// ---- free list of the arena allocator: FREE_MAX entries of (offset, bytes, ripe-after seconds) ----
export const FREE_MAX = 1024;

function bytes32(n: number): number {
  return n * 4;
}

const OFF_EVENT_STATUS = bytes32(HEADER_WORDS);
const OFF_EVENT_DEF = OFF_EVENT_STATUS + bytes32(MAX_EVENTS);
const OFF_EVENT_COMBINED = OFF_EVENT_DEF + bytes32(MAX_EVENTS);
const OFF_INSTANCES = OFF_EVENT_COMBINED + bytes32(MAX_EVENTS);
const OFF_INST_EVENT = OFF_INSTANCES + bytes32(MAX_INSTANCES * INST_WORDS);
const OFF_INST_FILTER_GEN = OFF_INST_EVENT + bytes32(MAX_INSTANCES * MAX_EVENTS);
const OFF_RING_TABLE = OFF_INST_FILTER_GEN + bytes32(MAX_INSTANCES * MAX_EVENTS);
const OFF_CPUS = OFF_RING_TABLE + bytes32(MAX_INSTANCES * MAX_CPUS);
const OFF_FREE = OFF_CPUS + bytes32(MAX_CPUS * CPU_WORDS);
const OFF_EVENT_LOG = OFF_FREE + bytes32(FREE_MAX * 3);
const CONTROL_SIZE = OFF_EVENT_LOG + bytes32(EVENT_LOG_MAX);

export const REGISTRY_MAX_BYTES = 64 << 20;
/** Registry header: word 0 = bytes used (entries start at REGISTRY_DATA). */
export const REGISTRY_DATA = 16;
export const ARENA_PAGE = 4096;

function arenaMaxBytes(): number {
  const mb = Number(process.env.NTRACE_ARENA_MAX_MB);
  // Offsets stay below 2^31 so they fit the Int32 tables.
  return Number.isInteger(mb) && mb >= 16 && mb <= 2047 ? mb << 20 : 1024 << 20;
}

/**
 * Maximum bytes of each hist table slot (control/pool.ts): 32 of up to 8 MiB — a default `keys=status` table with 64
 * writer regions takes 4.4 MiB — and 8 of up to 64 MiB for big tables (large `size=` or string keys). A hist table
 * needs a buffer of its own, and a buffer created later could reach other threads only by message, so the slots are
 * part of the state: address space only, until a hist trigger grows one.
 */
export const HIST_SLOT_BYTES: readonly number[] = [...new Array(32).fill(8 << 20), ...new Array(8).fill(64 << 20)];

/** The buffers that make up the shared state (structured-cloneable: pass them to a thread with postMessage). */
export interface SharedHandles {
  readonly control: SharedArrayBuffer;
  readonly registry: SharedArrayBuffer;
  readonly arena: SharedArrayBuffer;
  readonly histSlots: readonly SharedArrayBuffer[];
}

/** Typed views over the shared state, one set per thread. */
export class SharedState {
  readonly handles: SharedHandles;
  readonly header: Int32Array;
  readonly eventStatus: Int32Array;
  readonly eventDef: Int32Array;
  /** The word `enabled` reads: non-zero while the event records anywhere or has a soft/trigger bit. */
  readonly combined: Int32Array;
  readonly instances: Int32Array;
  /** Per-(instance, event) state word: index instance * MAX_EVENTS + id. */
  readonly instEvent: Int32Array;
  readonly instFilterGen: Int32Array;
  /** Arena byte offset of the ring of (instance, cpu), 0 when none: index instance * MAX_CPUS + cpu. */
  readonly ringTable: Int32Array;
  readonly cpus: Int32Array;
  readonly freeList: Int32Array;
  /**
   * Registry changes in order (H_REG_LOG_COUNT entries), appended under the registry lock: a thread's registry cache
   * reads only the entries after the last it saw, so following thousands of definitions costs O(new entries).
   */
  readonly eventLog: Int32Array;
  readonly counter: BigInt64Array;
  readonly registryWords: Int32Array;
  readonly registryBytes: Uint8Array;
  readonly arenaI32: Int32Array;

  constructor(handles: SharedHandles) {
    this.handles = handles;
    const c = handles.control;
    this.header = new Int32Array(c, 0, HEADER_WORDS);
    this.eventStatus = new Int32Array(c, OFF_EVENT_STATUS, MAX_EVENTS);
    this.eventDef = new Int32Array(c, OFF_EVENT_DEF, MAX_EVENTS);
    this.combined = new Int32Array(c, OFF_EVENT_COMBINED, MAX_EVENTS);
    this.instances = new Int32Array(c, OFF_INSTANCES, MAX_INSTANCES * INST_WORDS);
    this.instEvent = new Int32Array(c, OFF_INST_EVENT, MAX_INSTANCES * MAX_EVENTS);
    this.instFilterGen = new Int32Array(c, OFF_INST_FILTER_GEN, MAX_INSTANCES * MAX_EVENTS);
    this.ringTable = new Int32Array(c, OFF_RING_TABLE, MAX_INSTANCES * MAX_CPUS);
    this.cpus = new Int32Array(c, OFF_CPUS, MAX_CPUS * CPU_WORDS);
    this.freeList = new Int32Array(c, OFF_FREE, FREE_MAX * 3);
    this.eventLog = new Int32Array(c, OFF_EVENT_LOG, EVENT_LOG_MAX);
    this.counter = new BigInt64Array(c, COUNTER_BYTE, 1);
    // Length-tracking views: they follow the growable buffers as any thread grows them.
    this.registryWords = new Int32Array(handles.registry);
    this.registryBytes = new Uint8Array(handles.registry);
    this.arenaI32 = new Int32Array(handles.arena);
  }
}

function createHandles(): SharedHandles {
  const control = new SharedArrayBuffer(CONTROL_SIZE);
  const registry = newGrowable(4096, REGISTRY_MAX_BYTES);
  const arena = newGrowable(ARENA_PAGE, arenaMaxBytes());
  const h = new Int32Array(control, 0, HEADER_WORDS);
  h[H_VERSION] = VERSION;
  h[H_NEXT_ID] = FIRST_USER_EVENT_ID;
  h[H_UID] = (Math.random() * 0x7fffffff) | 1;
  h[H_ARENA_TOP] = ARENA_PAGE; // offset 0 means "no ring": keep the first page unused
  new Int32Array(registry)[0] = REGISTRY_DATA;
  Atomics.store(h, H_MAGIC, MAGIC);
  return { control, registry, arena, histSlots: HIST_SLOT_BYTES.map((max) => newGrowable(0, max)) };
}

function isHandles(x: unknown): x is SharedHandles {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return (
    o.control instanceof SharedArrayBuffer &&
    o.registry instanceof SharedArrayBuffer &&
    o.arena instanceof SharedArrayBuffer &&
    o.control.byteLength === CONTROL_SIZE &&
    Array.isArray(o.histSlots) &&
    o.histSlots.length === HIST_SLOT_BYTES.length &&
    o.histSlots.every((b, i) => b instanceof SharedArrayBuffer && asGrowable(b).maxByteLength === HIST_SLOT_BYTES[i]) &&
    new Int32Array(o.control, 0, 2)[H_MAGIC] === MAGIC &&
    new Int32Array(o.control, 0, 2)[H_VERSION] === VERSION
  );
}

let current: SharedState | undefined;

/**
 * This thread's view of the shared state: attaches to the one published by the thread that created this one,
 * or creates (and publishes, for threads created later) a new one.
 */
export function shared(): SharedState {
  if (current) return current;
  const published = workerThreads().getEnvironmentData(ENV_KEY);
  return install(isHandles(published) ? published : createHandles());
}

function install(h: SharedHandles): SharedState {
  current = new SharedState(h);
  workerThreads().setEnvironmentData(ENV_KEY, h as unknown as never);
  return current;
}

/** `node:worker_threads`, loaded on the engine's first use in this thread. */
export function workerThreads(): typeof import('node:worker_threads') {
  return process.getBuiltinModule('node:worker_threads');
}

/** The buffers of this thread's shared state, to hand to a thread created before ntrace was imported. */
export function sharedHandles(): SharedHandles {
  return shared().handles;
}

/**
 * Attaches this thread to shared state received from another thread. Must run before this thread uses the engine;
 * returns false (and changes nothing) when the thread already uses different state or the handles are not ntrace's.
 */
export function attachSharedState(handles: SharedHandles): boolean {
  if (!isHandles(handles)) return false;
  if (current) return current.header[H_UID] === new Int32Array(handles.control, 0, HEADER_WORDS)[H_UID];
  install(handles);
  return true;
}

/** Whether this thread has attached (or created) the shared state yet. */
export function isAttached(): boolean {
  return current !== undefined;
}
