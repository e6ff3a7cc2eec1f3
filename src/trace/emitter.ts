/**
 * The emit path of one thread: for each live instance where the event is enabled and tracing is on, take a
 * timestamp of the instance's clock, encode into this thread's ring of that instance, apply the filter hook,
 * commit, and ring the doorbell if a reader waits. Never throws.
 */
import { monoNs, readClock } from './clocks.js';
import { compileEncoder, EncodeHelpers, type Encoder, safeEncoder } from './encoder.js';
import { isLiveInstance, OPT_OVERWRITE, ringFor } from './instances.js';
import type { EventLayout } from './layout.js';
import { openRing, RingWriter } from './ring.js';
import {
  H_CONFIG_GEN,
  H_INTERNAL_ERRORS,
  I_CLOCK,
  I_OPTIONS,
  I_TRACING_ON,
  I_WAITERS,
  IE_ENABLED,
  IE_FILTER,
  IE_SOFT_DISABLED,
  IE_TRIGGER,
  INST_WORDS,
  MAX_CPUS,
  MAX_EVENTS,
  MAX_INSTANCES,
  type SharedState,
} from './shared-state.js';
import { currentCpu } from './threads.js';
import { ringDoorbell } from './wake.js';

/** What emit needs of an event: its id and encoders. */
export interface CompiledEvent {
  readonly id: number;
  readonly layout: EventLayout;
  readonly encode: Encoder;
  readonly slow: Encoder;
  /** The whole emit path specialized for this event (generated: constants inlined, monomorphic calls). */
  readonly emit: (values: unknown) => void;
  /** This thread's filter-only control state by instance, applied by `emit` itself (see FastFilter). */
  readonly fast: Array<FastFilter | undefined>;
}

/**
 * A filter-only (instance, event) — IE_FILTER without IE_TRIGGER — as the control hook compiled it: the generated
 * emit path calls `match` itself (an inlinable call site of its own per event) while `gen` equals the (instance,
 * event) generation, instead of going through the control hook. Any other state, or a moved generation, still
 * goes to the hook, which installs or drops the entry (`setFastFilter`).
 */
export interface FastFilter {
  readonly gen: number;
  /** The filter language's predicate over the emit's values (method syntax: it takes its own value types). */
  match(values: unknown, ctx: unknown): boolean;
  readonly ctx: unknown;
}

/** Installs (or drops, with undefined) this thread's fast filter of (instance, event); the control hook calls it. */
export function setFastFilter(ev: CompiledEvent, instance: number, f: FastFilter | undefined): void {
  if (instance >= 0 && instance < MAX_INSTANCES) ev.fast[instance] = f;
}

/**
 * A record predicate installed by the filter language: gets the ring bytes and the payload start; false discards
 * the record (as the kernel discards a filtered event after reserving it).
 */
export type RecordFilter = (bytes: Uint8Array, at: number) => boolean;
/** Returns the filter of (instance, event) for the given filter generation, or undefined for "no filter". */
export type FilterProvider = (instance: number, id: number, generation: number) => RecordFilter | undefined;

/**
 * Runs the triggers of (instance, event) on a record, in the emitting thread, after the record was committed or
 * discarded (soft-disabled events and filtered-out records are still seen by their triggers, as in the kernel).
 * `bytes[at…]` is a copy of the record from common_type; the trigger may emit events itself.
 */
export type RecordTrigger = (bytes: Uint8Array, at: number) => void;
export type TriggerProvider = (instance: number, id: number, generation: number) => RecordTrigger | undefined;

/**
 * The control plane's hook (src/trace/control), run on the JS values before anything is encoded whenever the
 * (instance, event) state has IE_FILTER or IE_TRIGGER: it fires triggers and decides whether to record. Returns
 * HOOK_DONE (handled: nothing more for this instance — dropped, or recorded itself through `recordInto`),
 * HOOK_RECORD (record it as a plain enabled event: the emit path's own inlined encoder, tracing_on still checked)
 * or HOOK_DECLINE (not the hook's: the path below with the record providers).
 */
export type ControlHook = (instance: number, ev: CompiledEvent, state: number, values: unknown) => number;
export const HOOK_DECLINE = 0;
export const HOOK_DONE = 1;
/** Recording through the caller's generated path rather than `recordInto` saves ~30 ns (docs/CONTROL.md). */
export const HOOK_RECORD = 2;

/** Installs this thread's control hook (done by src/trace/control when ntrace is imported). */
export function setControlHook(h: ControlHook | undefined): void {
  T.control = h;
}

let filterProvider: FilterProvider | undefined;
let triggerProvider: TriggerProvider | undefined;

/**
 * Installs the filter provider of this thread (the control languages call this in every emitting thread). It is
 * asked again whenever the (instance, event) control generation moves (bumpFilterGeneration).
 */
export function setFilterProvider(p: FilterProvider | undefined): void {
  filterProvider = p;
  if (thread) thread.forget();
}

/** Installs the trigger provider of this thread; same generation rule as filters. */
export function setTriggerProvider(p: TriggerProvider | undefined): void {
  triggerProvider = p;
  if (thread) thread.forget();
}

const pid = process.pid;
const MAX_TRIGGER_DEPTH = 4;
/** State bits that send a record through ThreadEmitter.finish; UNUSUAL_NONE is the plain "enabled" case. */
const UNUSUAL = IE_ENABLED | IE_TRIGGER | IE_FILTER | IE_SOFT_DISABLED;
const UNUSUAL_NONE = IE_ENABLED;
/** State bits that send an emit to the control hook, before the tracing_on check (traceon must still fire). */
const CONTROLLED = IE_FILTER | IE_TRIGGER;

export function compileEvent(s: SharedState, id: number, layout: EventLayout): CompiledEvent {
  const h = new EncodeHelpers(s);
  const slow = safeEncoder(id, layout, pid, h);
  let encode: Encoder;
  let emit: (values: unknown) => void;
  const generic = (values: unknown) => emitRecord(s, ev, values);
  const ev: CompiledEvent = {
    id,
    layout,
    get encode() {
      return encode;
    },
    slow,
    get emit() {
      return emit;
    },
    fast: new Array<FastFilter | undefined>(MAX_INSTANCES).fill(undefined),
  };
  try {
    // Non-ASCII strings leave the ASCII encoder for a UTF-8 one; oversized records and bad values for the safe one.
    const utf8 = layout.dynamic ? compileEncoder(id, layout, pid, h, slow, true) : slow;
    encode = compileEncoder(id, layout, pid, h, utf8);
    emit = compileEmit(s, ev, encode, slow, generic);
  } catch {
    // e.g. code generation disallowed (--disallow-code-generation-from-strings): the generic path still works.
    encode = slow;
    emit = generic;
  }
  return ev;
}

/** What generated emit functions reach through (kept on one object so the generated code stays small). */
const T = {
  thread: undefined as ThreadEmitter | undefined,
  control: undefined as ControlHook | undefined,
  hrtime: process.hrtime,
  clock: (s: SharedState, c: number) => readClock(s, c),
  wake(s: SharedState, ib: number): void {
    if (Atomics.exchange(s.instances, ib + I_WAITERS, 0) !== 0) ringDoorbell(s);
  },
  error(s: SharedState): void {
    if (T.thread) for (const w of T.thread.rings) w?.abort();
    Atomics.add(s.header, H_INTERNAL_ERRORS, 1);
  },
};

/**
 * Generates the emit path of one event: the same steps as emitRecord, with the event id and word offsets as
 * constants and its own encoder as a direct (inlinable) call. Anything unusual (first emit of the thread,
 * instances changed) goes through `generic`.
 */
function compileEmit(
  s: SharedState,
  ev: CompiledEvent,
  encode: Encoder,
  slow: Encoder,
  generic: (values: unknown) => void,
): (values: unknown) => void {
  const body = `'use strict';
const header = s.header, ie = s.instEvent, inst = s.instances, gens = s.instFilterGen, fast = ev.fast;
return function emit(v) {
  try {
    const t = T.thread;
    if (t === undefined || t.configGen !== header[${H_CONFIG_GEN}]) return generic(v);
    const live = t.live;
    for (let k = 0; k < live.length; k++) {
      const i = live[k];
      let st = ie[i * ${MAX_EVENTS} + ${ev.id}];
      if ((st & ${IE_ENABLED | IE_TRIGGER}) === 0) continue;
      if ((st & ${CONTROLLED}) !== 0) {
        const ff = (st & ${IE_TRIGGER}) === 0 ? fast[i] : undefined;
        if (ff !== undefined && ff.gen === gens[i * ${MAX_EVENTS} + ${ev.id}]) {
          if ((st & ${IE_SOFT_DISABLED}) !== 0 || !ff.match(v, ff.ctx)) continue;
          st = ${IE_ENABLED};
        } else if (T.control !== undefined) {
          const h = T.control(i, ev, st, v);
          if (h === ${HOOK_DONE}) continue;
          if (h === ${HOOK_RECORD}) st = ${IE_ENABLED};
        }
      }
      const ib = i * ${INST_WORDS};
      if (inst[ib + ${I_TRACING_ON}] === 0) continue;
      let w = t.rings[i];
      if (w === undefined && (w = t.attach(i)) === undefined) continue;
      const c = inst[ib + ${I_CLOCK}];
      let ts;
      if (c === 0) { const hr = T.hrtime(); ts = hr[0] * 1e9 + hr[1]; } else ts = T.clock(s, c);
      let at;
      try { at = encode(v, w, ts); } catch { w.abort(); at = slow(v, w, ts); }
      if (at < 0) continue;
      if ((st & ${UNUSUAL}) !== ${UNUSUAL_NONE}) { t.finish(i, ${ev.id}, st, w, at); continue; }
      w.commit();
      if (inst[ib + ${I_WAITERS}] !== 0) T.wake(s, ib);
    }
  } catch {
    T.error(s);
  }
};`;
  return new Function('T', 's', 'ev', 'encode', 'slow', 'generic', body)(T, s, ev, encode, slow, generic);
}

class ThreadEmitter {
  readonly s: SharedState;
  readonly cpu: number;
  configGen = -1;
  live: number[] = [];
  readonly rings: Array<RingWriter | undefined> = new Array(MAX_INSTANCES).fill(undefined);
  private readonly filters = new Map<number, { gen: number; f: RecordFilter | undefined }>();
  private readonly triggers = new Map<number, { gen: number; f: RecordTrigger | undefined }>();

  /** Drops cached filters and triggers (the providers changed). */
  forget(): void {
    this.filters.clear();
    this.triggers.clear();
  }

  trigger(i: number, id: number): RecordTrigger | undefined {
    return triggerProvider ? this.cached(this.triggers, triggerProvider, i, id) : undefined;
  }

  /** The provider's answer for (instance, event), asked again only when the event's control generation moved. */
  private cached<F>(
    cache: Map<number, { gen: number; f: F | undefined }>,
    provider: (instance: number, id: number, generation: number) => F | undefined,
    i: number,
    id: number,
  ): F | undefined {
    const k = i * MAX_EVENTS + id;
    const gen = Atomics.load(this.s.instFilterGen, k);
    const c = cache.get(k);
    if (c && c.gen === gen) return c.f;
    let f: F | undefined;
    try {
      f = provider(i, id, gen);
    } catch {
      f = undefined;
    }
    cache.set(k, { gen, f });
    return f;
  }

  /** Nesting depth of trigger calls (a trigger may emit events; like the kernel, nesting is bounded). */
  private depth = 0;

  /**
   * The unusual cases of one record, after it was encoded: keep it (recording enabled, not soft-disabled, passing
   * the filter) or drop it, then run the triggers on a copy — after the record is settled, so a trigger that emits
   * (a synthetic event) finds no half-written record in this thread's ring.
   */
  finish(i: number, id: number, st: number, w: RingWriter, at: number): void {
    let keep = (st & IE_ENABLED) !== 0 && (st & IE_SOFT_DISABLED) === 0;
    if (keep && (st & IE_FILTER) !== 0) {
      const f = this.filter(i, id);
      if (f !== undefined) {
        try {
          keep = f(w.u8, at);
        } catch {
          Atomics.add(this.s.header, H_INTERNAL_ERRORS, 1);
        }
      }
    }
    const trig = (st & IE_TRIGGER) !== 0 && this.depth < MAX_TRIGGER_DEPTH ? this.trigger(i, id) : undefined;
    const copy = trig !== undefined ? w.u8.slice(at, at + w.pendingLength(at)) : undefined;
    if (keep) {
      w.commit();
      const ib = i * INST_WORDS;
      if (this.s.instances[ib + I_WAITERS] !== 0 && Atomics.exchange(this.s.instances, ib + I_WAITERS, 0) !== 0)
        ringDoorbell(this.s);
    } else w.abort();
    if (trig === undefined || copy === undefined) return;
    this.depth++;
    try {
      trig(copy, 0);
    } catch {
      Atomics.add(this.s.header, H_INTERNAL_ERRORS, 1);
    } finally {
      this.depth--;
    }
  }

  constructor(s: SharedState, cpu: number) {
    this.s = s;
    this.cpu = cpu;
  }

  refresh(): void {
    const s = this.s;
    this.configGen = Atomics.load(s.header, H_CONFIG_GEN);
    const live: number[] = [];
    for (let i = 0; i < MAX_INSTANCES; i++) {
      if (!isLiveInstance(s, i)) {
        this.rings[i] = undefined;
        continue;
      }
      live.push(i);
      const base = Atomics.load(s.ringTable, i * MAX_CPUS + this.cpu);
      const w = this.rings[i];
      if (w && (w.v.base !== base || w.v.h[6] !== w.uid)) this.rings[i] = undefined;
    }
    this.live = live;
  }

  attach(i: number): RingWriter | undefined {
    const base = ringFor(this.s, i, this.cpu);
    const v = base ? openRing(this.s, base) : undefined;
    if (!v) return undefined;
    const w = new RingWriter(v);
    w.bindOptions(this.s.instances, i * INST_WORDS + I_OPTIONS, OPT_OVERWRITE);
    this.rings[i] = w;
    return w;
  }

  filter(i: number, id: number): RecordFilter | undefined {
    return filterProvider ? this.cached(this.filters, filterProvider, i, id) : undefined;
  }
}

let thread: ThreadEmitter | undefined;

function threadEmitter(s: SharedState): ThreadEmitter | undefined {
  if (thread) return thread;
  const cpu = currentCpu(s);
  if (cpu < 0) return undefined;
  thread = new ThreadEmitter(s, cpu);
  T.thread = thread;
  return thread;
}

/** Emits one record of `ev` (whose combined flag is non-zero) into every instance recording it. */
export function emitRecord(s: SharedState, ev: CompiledEvent, values: unknown): void {
  try {
    const t = thread ?? threadEmitter(s);
    if (t === undefined) return;
    if (t.configGen !== s.header[H_CONFIG_GEN]) t.refresh();
    const live = t.live;
    const ie = s.instEvent;
    const inst = s.instances;
    let clock = -1;
    let ts = 0;
    for (let k = 0; k < live.length; k++) {
      const i = live[k];
      let st = ie[i * MAX_EVENTS + ev.id];
      if ((st & (IE_ENABLED | IE_TRIGGER)) === 0) continue;
      if ((st & CONTROLLED) !== 0 && T.control !== undefined) {
        const h = T.control(i, ev, st, values);
        if (h === HOOK_DONE) continue;
        if (h === HOOK_RECORD) st = IE_ENABLED;
      }
      const ib = i * INST_WORDS;
      if (inst[ib + I_TRACING_ON] === 0) continue;
      const w = t.rings[i] ?? t.attach(i);
      if (w === undefined) continue;
      const c = inst[ib + I_CLOCK];
      if (c !== clock) {
        ts = c === 0 ? monoNs() : readClock(s, c);
        clock = c;
      }
      let at: number;
      try {
        at = ev.encode(values, w, ts);
      } catch {
        w.abort();
        at = ev.slow(values, w, ts);
      }
      if (at < 0) continue;
      if ((st & UNUSUAL) !== UNUSUAL_NONE) {
        t.finish(i, ev.id, st, w, at);
        continue;
      }
      w.commit();
      if (inst[ib + I_WAITERS] !== 0 && Atomics.exchange(inst, ib + I_WAITERS, 0) !== 0) ringDoorbell(s);
    }
  } catch {
    if (thread) for (const w of thread.rings) w?.abort();
    Atomics.add(s.header, H_INTERNAL_ERRORS, 1);
  }
}

/**
 * Records `values` of `ev` in instance `i` from this thread, without filter or trigger hooks (the control hook
 * decided already). Honors tracing_on. Returns whether a record was committed.
 */
export function recordInto(s: SharedState, ev: CompiledEvent, i: number, values: unknown): boolean {
  try {
    const t = thread ?? threadEmitter(s);
    if (t === undefined) return false;
    if (t.configGen !== s.header[H_CONFIG_GEN]) t.refresh();
    const ib = i * INST_WORDS;
    if (s.instances[ib + I_TRACING_ON] === 0) return false;
    const w = t.rings[i] ?? t.attach(i);
    if (w === undefined) return false;
    const c = s.instances[ib + I_CLOCK];
    const ts = c === 0 ? monoNs() : readClock(s, c);
    let at: number;
    try {
      at = ev.encode(values, w, ts);
    } catch {
      w.abort();
      at = ev.slow(values, w, ts);
    }
    if (at < 0) return false;
    w.commit();
    if (s.instances[ib + I_WAITERS] !== 0 && Atomics.exchange(s.instances, ib + I_WAITERS, 0) !== 0) ringDoorbell(s);
    return true;
  } catch {
    if (thread) for (const w of thread.rings) w?.abort();
    Atomics.add(s.header, H_INTERNAL_ERRORS, 1);
    return false;
  }
}

/**
 * Writes one record into this thread's ring of instance `i` through `write` (which reserves and fills, returning
 * the payload index or -1), regardless of event enable state: trace_marker and trace_marker_raw. Honors
 * tracing_on. Returns whether a record was committed.
 */
export function emitInto(s: SharedState, i: number, write: (w: RingWriter, ts: number) => number): boolean {
  try {
    const t = thread ?? threadEmitter(s);
    if (t === undefined || !isLiveInstance(s, i)) return false;
    if (t.configGen !== s.header[H_CONFIG_GEN]) t.refresh();
    const ib = i * INST_WORDS;
    if (s.instances[ib + I_TRACING_ON] === 0) return false;
    const w = t.rings[i] ?? t.attach(i);
    if (w === undefined) return false;
    const c = s.instances[ib + I_CLOCK];
    let at: number;
    try {
      at = write(w, c === 0 ? monoNs() : readClock(s, c));
    } catch {
      w.abort();
      return false;
    }
    if (at < 0) return false;
    w.commit();
    if (s.instances[ib + I_WAITERS] !== 0 && Atomics.exchange(s.instances, ib + I_WAITERS, 0) !== 0) ringDoorbell(s);
    return true;
  } catch {
    Atomics.add(s.header, H_INTERNAL_ERRORS, 1);
    return false;
  }
}
