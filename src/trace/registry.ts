/**
 * The event registry in shared memory. Ids are allocated under a shared lock (so a duplicate definition in another
 * thread is detected), definitions are appended as JSON to the growable registry buffer, and a generation word is
 * bumped on every change: any thread — the filesystem thread included — sees new and removed events by polling
 * that word, with no message from the defining thread, and catches up by reading the shared change log from where it
 * left off. Removed events keep their definition (records of them may remain in buffers) and their id is never
 * reused; a busy event (enabled or triggered anywhere) is not removed (EventBusyError, see event-status.ts).
 */
import { BUSY, isLiveStatus, NOT_LIVE, tryRemove } from './event-status.js';
import { asGrowable } from './growable.js';
import { computeLayout, type FieldSpec, type FieldType } from './layout.js';
import { withLock } from './lock.js';
import type { EventDescriptor } from './record.js';
import {
  EV_LIVE,
  EVENT_LOG_MAX,
  H_NEXT_ID,
  H_REG_GEN,
  H_REG_LOCK,
  H_REG_LOG_COUNT,
  LOG_REMOVED,
  MAX_EVENTS,
  REGISTRY_DATA,
  type SharedState,
} from './shared-state.js';
import { wakeRegistryWatchers } from './wake.js';

interface StoredDefinition {
  system: string;
  name: string;
  fields: FieldSpec[];
  print?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** This thread's cache of the registry, refreshed when the generation word moves. */
export class RegistryView {
  private readonly s: SharedState;
  private gen = -1;
  /** Entries of the shared registry log this view has applied. */
  private logged = 0;
  private readonly byId = new Map<number, EventDescriptor>();
  private readonly live = new Map<string, number>();
  /** list()'s answer, until the next change. */
  private sorted: EventDescriptor[] | undefined;

  constructor(s: SharedState) {
    this.s = s;
  }

  /** Registry generation (changes on every define/remove in any thread). */
  generation(): number {
    return Atomics.load(this.s.header, H_REG_GEN);
  }

  /** Applies the registry log entries written since the last sync: O(changes), however many events exist. */
  sync(): void {
    const s = this.s;
    const gen = Atomics.load(s.header, H_REG_GEN);
    if (gen === this.gen) return;
    this.gen = gen;
    const end = Math.min(EVENT_LOG_MAX, Atomics.load(s.header, H_REG_LOG_COUNT));
    if (end === this.logged) return;
    for (let i = this.logged; i < end; i++) {
      const entry = Atomics.load(s.eventLog, i);
      const id = entry & (LOG_REMOVED - 1);
      const d = this.load(id);
      if (!d) continue;
      const key = `${d.system}:${d.name}`;
      if ((entry & LOG_REMOVED) === 0) this.live.set(key, id);
      else if (this.live.get(key) === id) this.live.delete(key);
    }
    this.logged = end;
    this.sorted = undefined;
  }

  private load(id: number): EventDescriptor | undefined {
    const cached = this.byId.get(id);
    if (cached) return cached;
    const off = Atomics.load(this.s.eventDef, id);
    if (off < REGISTRY_DATA) return undefined;
    const bytes = this.s.registryBytes;
    const len = this.s.registryWords[off >> 2];
    if (len <= 0 || off + 4 + len > bytes.length) return undefined;
    try {
      return this.remember(id, JSON.parse(decoder.decode(bytes.slice(off + 4, off + 4 + len))) as StoredDefinition);
    } catch {
      return undefined;
    }
  }

  /** Caches the descriptor of `id` from its definition (the defining thread has it at hand: no JSON round trip). */
  remember(id: number, def: StoredDefinition): EventDescriptor {
    const fields = Object.freeze(def.fields.map((f) => Object.freeze({ name: f.name, type: f.type as FieldType })));
    const d: EventDescriptor = Object.freeze({
      id,
      system: def.system,
      name: def.name,
      fields,
      layout: computeLayout(fields),
      ...(def.print !== undefined ? { print: def.print } : {}),
    });
    this.byId.set(id, d);
    return d;
  }

  /** The descriptor of `id`, live or removed (records of removed events still render). */
  get(id: number): EventDescriptor | undefined {
    const d = this.byId.get(id);
    if (d) return d;
    if (!Number.isInteger(id) || id <= 0 || id >= MAX_EVENTS) return undefined;
    this.sync();
    return this.byId.get(id) ?? this.load(id);
  }

  /** Id of the live event `system:name`, or undefined. */
  find(system: string, name: string): number | undefined {
    this.sync();
    return this.live.get(`${system}:${name}`);
  }

  /** Live events, ordered by id. */
  list(): EventDescriptor[] {
    this.sync();
    if (!this.sorted) {
      const out: EventDescriptor[] = [];
      for (const id of this.live.values()) {
        const d = this.byId.get(id);
        if (d) out.push(d);
      }
      this.sorted = out.sort((a, b) => a.id - b.id);
    }
    return this.sorted.slice();
  }

  isLive(id: number): boolean {
    return id > 0 && id < MAX_EVENTS && isLiveStatus(Atomics.load(this.s.eventStatus, id));
  }
}

function append(s: SharedState, json: string): number {
  const bytes = encoder.encode(json);
  const words = s.registryWords;
  const off = words[0];
  const need = off + 4 + ((bytes.length + 3) & ~3);
  const buf = asGrowable(s.handles.registry);
  if (need > buf.byteLength) {
    if (need > buf.maxByteLength) throw new RangeError('ntrace: event registry is full');
    buf.grow(Math.min(buf.maxByteLength, Math.max(need, buf.byteLength * 2)));
  }
  s.registryBytes.set(bytes, off + 4);
  s.registryWords[off >> 2] = bytes.length;
  words[0] = need;
  return off;
}

export class DuplicateEventError extends Error {
  readonly code = 'EEXIST';
}

/** `remove()` of an event that is enabled (or soft-enabled) in some instance or has a trigger: the kernel's EBUSY. */
export class EventBusyError extends Error {
  readonly code = 'EBUSY';
}

function sameDefinition(d: EventDescriptor, def: StoredDefinition): boolean {
  return (
    d.print === def.print &&
    d.fields.length === def.fields.length &&
    d.fields.every((f, i) => f.name === def.fields[i].name && f.type === def.fields[i].type)
  );
}

/**
 * Adds an event to the shared registry and returns its id. When `system:name` is live already and `adopt(id)`
 * agrees (it was defined by another thread) and the definition is identical, returns the existing id. Throws DuplicateEventError when `system:name` is live,
 * RangeError when ids or registry space run out. `fixedId` is for the built-in events.
 */
export function registerEvent(
  s: SharedState,
  view: RegistryView,
  def: StoredDefinition,
  fixedId?: number,
  adopt?: (existingId: number) => boolean,
): number {
  return withLock(s.header, H_REG_LOCK, () => {
    view.sync();
    const existing = view.find(def.system, def.name);
    if (existing !== undefined) {
      // The same module imported in several threads defines the same tracepoint once per thread: an identical
      // definition made by another thread is that tracepoint, not a duplicate.
      const d = view.get(existing);
      if (adopt?.(existing) && d && sameDefinition(d, def)) return existing;
      throw new DuplicateEventError(`ntrace: event ${def.system}:${def.name} is already defined`);
    }
    let id: number;
    if (fixedId !== undefined) {
      if (Atomics.load(s.eventStatus, fixedId) !== 0) throw new DuplicateEventError(`ntrace: id ${fixedId} is taken`);
      id = fixedId;
    } else {
      id = s.header[H_NEXT_ID];
      if (id >= MAX_EVENTS) throw new RangeError(`ntrace: no event ids left (${MAX_EVENTS})`);
    }
    const off = append(s, JSON.stringify(def));
    Atomics.store(s.eventDef, id, off);
    Atomics.store(s.eventStatus, id, EV_LIVE);
    if (fixedId === undefined) Atomics.store(s.header, H_NEXT_ID, id + 1);
    appendLog(s, id);
    bumpGeneration(s);
    view.remember(id, def);
    view.sync();
    return id;
  });
}

/**
 * Removes `id` unless it is busy (enabled or soft-enabled in an instance, or triggered: EventBusyError). It stops
 * recording everywhere; its definition stays readable. Returns false when it was not live.
 */
export function unregisterEvent(s: SharedState, id: number): boolean {
  return withLock(s.header, H_REG_LOCK, () => {
    const r = tryRemove(s, id);
    if (r === NOT_LIVE) return false;
    if (r === BUSY) {
      const d = Atomics.load(s.eventDef, id) >= REGISTRY_DATA ? describe(s, id) : `#${id}`;
      throw new EventBusyError(`ntrace: event ${d} is enabled or has a trigger; disable it before removing it`);
    }
    appendLog(s, id | LOG_REMOVED);
    bumpGeneration(s);
    return true;
  });
}

function describe(s: SharedState, id: number): string {
  const off = Atomics.load(s.eventDef, id);
  try {
    const len = s.registryWords[off >> 2];
    const def = JSON.parse(decoder.decode(s.registryBytes.slice(off + 4, off + 4 + len))) as StoredDefinition;
    return `${def.system}:${def.name}`;
  } catch {
    return `#${id}`;
  }
}

/** Appends a registry change to the shared log (under the registry lock); readers see it once the count moves. */
function appendLog(s: SharedState, entry: number): void {
  const n = s.header[H_REG_LOG_COUNT];
  // Cannot overflow: each id is defined once and removed at most once.
  if (n >= EVENT_LOG_MAX) return;
  Atomics.store(s.eventLog, n, entry);
  Atomics.store(s.header, H_REG_LOG_COUNT, n + 1);
}

function bumpGeneration(s: SharedState): void {
  Atomics.add(s.header, H_REG_GEN, 1);
  wakeRegistryWatchers(s);
}
