/**
 * The emit path of one thread: for each live instance where the event is enabled or triggered, run the control
 * hook if the (instance, event) has a filter or triggers; then, tracing being on, take a timestamp of the
 * instance's clock, encode into this thread's ring of that instance, commit, and ring the doorbell if a reader
 * waits. Never throws.
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
 * The control plane's hook (src/trace/control), run on the JS values before anything is encoded whenever the
 * (instance, event) state has IE_FILTER or IE_TRIGGER: it fires the triggers and decides whether to record. True:
 * record it as a plain enabled event through the caller's own path (its inlined encoder; tracing_on still checked);
 * false: nothing more for this instance (dropped, or recorded by the hook itself through `recordInto`).
 */
export type ControlHook = (instance: number, ev: CompiledEvent, state: number, values: unknown) => boolean;

/** Installs this thread's control hook (done by src/trace/control when ntrace is imported). */
export function setControlHook(h: ControlHook | undefined): void {
  T.control = h;
}

const pid = process.pid;
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
  error: internalError,
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
      const st = ie[i * ${MAX_EVENTS} + ${ev.id}];
      if ((st & ${IE_ENABLED | IE_TRIGGER}) === 0) continue;
      if ((st & ${CONTROLLED}) !== 0) {
        const ff = (st & ${IE_TRIGGER}) === 0 ? fast[i] : undefined;
        if (ff !== undefined && ff.gen === gens[i * ${MAX_EVENTS} + ${ev.id}]) {
          if (!ff.match(v, ff.ctx)) continue;
        } else if (T.control === undefined ? (st & ${IE_ENABLED}) === 0 : !T.control(i, ev, st, v)) continue;
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

/** This thread's emitter, refreshed if the instances changed; undefined if the thread got no CPU slot. */
function currentThread(s: SharedState): ThreadEmitter | undefined {
  const t = thread ?? threadEmitter(s);
  if (t !== undefined && t.configGen !== s.header[H_CONFIG_GEN]) t.refresh();
  return t;
}

/**
 * The tail every record takes outside the generated path: tracing_on, this thread's ring of instance `i`, a
 * timestamp of the instance's clock, `write` (reserve and fill: the payload index, or -1 for nothing; `slow` is
 * tried after a throw), commit, and the doorbell if a reader waits. Returns whether a record was committed.
 */
function commitRecord(
  s: SharedState,
  t: ThreadEmitter,
  i: number,
  write: Encoder,
  slow: Encoder | undefined,
  values: unknown,
): boolean {
  const ib = i * INST_WORDS;
  const inst = s.instances;
  if (inst[ib + I_TRACING_ON] === 0) return false;
  const w = t.rings[i] ?? t.attach(i);
  if (w === undefined) return false;
  const c = inst[ib + I_CLOCK];
  const ts = c === 0 ? monoNs() : readClock(s, c);
  let at: number;
  try {
    at = write(values, w, ts);
  } catch {
    w.abort();
    if (slow === undefined) return false;
    at = slow(values, w, ts);
  }
  if (at < 0) return false;
  w.commit();
  if (inst[ib + I_WAITERS] !== 0 && Atomics.exchange(inst, ib + I_WAITERS, 0) !== 0) ringDoorbell(s);
  return true;
}

/** What the generic paths do when something unexpected throws: nothing half-written stays, the error is counted. */
function internalError(s: SharedState): void {
  if (thread) for (const w of thread.rings) w?.abort();
  Atomics.add(s.header, H_INTERNAL_ERRORS, 1);
}

/** One instance's part of an emit: its state, the control hook when it has a filter or triggers, the record. */
function emitOne(s: SharedState, t: ThreadEmitter, ev: CompiledEvent, i: number, values: unknown): void {
  const st = s.instEvent[i * MAX_EVENTS + ev.id];
  if ((st & (IE_ENABLED | IE_TRIGGER)) === 0) return;
  if ((st & CONTROLLED) !== 0 && (T.control === undefined ? (st & IE_ENABLED) === 0 : !T.control(i, ev, st, values)))
    return;
  commitRecord(s, t, i, ev.encode, ev.slow, values);
}

/** Emits one record of `ev` (whose combined flag is non-zero) into every instance recording it. */
export function emitRecord(s: SharedState, ev: CompiledEvent, values: unknown): void {
  try {
    const t = currentThread(s);
    if (t === undefined) return;
    for (const i of t.live) emitOne(s, t, ev, i, values);
  } catch {
    internalError(s);
  }
}

/**
 * Emits `values` of `ev` as the application would, but in instance `i` only (the `inject` file): its enable state,
 * filter and triggers apply as for any emit from this thread.
 */
export function emitIn(s: SharedState, ev: CompiledEvent, i: number, values: unknown): void {
  try {
    const t = currentThread(s);
    if (t === undefined || !isLiveInstance(s, i)) return;
    emitOne(s, t, ev, i, values);
  } catch {
    internalError(s);
  }
}

/**
 * Records `values` of `ev` in instance `i` from this thread, without the control hook (it decided already).
 * Honors tracing_on. Returns whether a record was committed.
 */
export function recordInto(s: SharedState, ev: CompiledEvent, i: number, values: unknown): boolean {
  try {
    const t = currentThread(s);
    return t !== undefined && commitRecord(s, t, i, ev.encode, ev.slow, values);
  } catch {
    internalError(s);
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
    const t = currentThread(s);
    return (
      t !== undefined &&
      isLiveInstance(s, i) &&
      commitRecord(s, t, i, (_v, w, ts) => write(w, ts), undefined, undefined)
    );
  } catch {
    internalError(s);
    return false;
  }
}
