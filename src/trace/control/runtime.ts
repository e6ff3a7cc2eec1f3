/**
 * The emitting thread's side of the control plane: the engine's control hook (emitter.ts `setControlHook`), called
 * for an (instance, event) whose state has IE_FILTER or IE_TRIGGER. When the (instance, event) generation moved
 * since this thread last looked, it reads the published blob and compiles the filter and triggers itself; then,
 * per emit, the kernel's order: unconditional triggers, record (enabled, not soft-disabled, tracing on, filter
 * passes — all on the JS values, before anything is encoded), conditional triggers.
 *
 * Never throws into the application: anything unexpected means "record as if there were no control state".
 */

import { context } from '../context.js';
import {
  type CompiledEvent,
  type FastFilter,
  HOOK_DECLINE,
  HOOK_DONE,
  HOOK_RECORD,
  recordInto,
  setFastFilter,
} from '../emitter.js';
import {
  eventState,
  findEvent,
  getEvent,
  IE_ENABLED,
  IE_FILTER,
  IE_SOFT_DISABLED,
  isTracingOn,
  MAX_EVENTS,
  MAX_INSTANCES,
  setEventEnabled,
  setTracingOn,
  writeStack,
} from '../engine.js';
import type { CompiledFilter } from '../languages/filter/compile.js';
import type { EmitContext, Values } from '../languages/filter/evaluate.js';
import { compileEventFilter } from '../languages/filter/event-filter.js';
import { HistTrigger } from '../languages/hist/hist-trigger.js';
import type { TriggerCommand } from '../languages/trigger/trigger-set.js';
import { captureFrames } from '../languages/trigger/trigger-set.js';
import { currentCpu } from '../threads.js';
import { parseBlob } from './blob.js';
import { histPool } from './pool.js';
import { type ControlRoot, findRoot, readBlob } from './shared-control.js';
import { snapshotFromTrigger } from './snapshot.js';

const NULL_LOG = { add() {} };

interface Fire {
  readonly cmd: TriggerCommand;
  readonly cell: number;
  readonly filter: CompiledFilter | undefined;
  /** enable_event/disable_event/enable_hist/disable_hist target id (0 = gone). */
  readonly target: number;
  readonly hist: HistTrigger | undefined;
}

interface Loaded {
  readonly gen: number;
  /** No blob: the engine's own path handles the record. */
  readonly none: boolean;
  readonly filter: CompiledFilter | undefined;
  readonly triggers: readonly Fire[];
  readonly conditional: boolean;
  /** Filter only: what the emit path applies itself from the next emit on (setFastFilter). */
  readonly fast: FastFilter | undefined;
}

const NONE = (gen: number): Loaded => ({
  gen,
  none: true,
  filter: undefined,
  triggers: [],
  conditional: false,
  fast: undefined,
});

/** Compiled control state, by event id then instance (arrays: a Map lookup would cost more than the filter). */
let byEvent: Array<Array<Loaded | undefined> | undefined> | undefined;
let ctrlRoot: ControlRoot | undefined;
const ctx: { -readonly [K in keyof EmitContext]: EmitContext[K] } = { pid: process.pid, cpu: 0, comm: '' };

function load(r: ControlRoot, instance: number, id: number, gen: number): Loaded {
  const ev = getEvent(id);
  const blob = ev ? parseBlob(readBlob(r, instance, id)) : undefined;
  if (!ev || !blob) return NONE(gen);
  let filter: CompiledFilter | undefined;
  if (blob.filter !== undefined) {
    const f = compileEventFilter(ev, blob.filter, NULL_LOG);
    if (f.ok) filter = f.filter;
  }
  const triggers: Fire[] = [];
  const pool = histPool();
  for (const t of blob.triggers) {
    let tf: CompiledFilter | undefined;
    let hist: HistTrigger | undefined;
    if (t.filter !== undefined) {
      const f = compileEventFilter(ev, t.filter, NULL_LOG);
      if (f.ok) tf = f.filter;
    }
    if (t.cmd === 'hist') {
      if (!t.hist || !r.poolOk) continue;
      hist = HistTrigger.fromSpec(ev, { spec: t.hist.spec, shape: t.hist.shape, sab: pool.sabs[t.hist.slot] });
      tf = hist.filter;
    }
    const target = t.target ? (findEvent(t.target.system, t.target.event)?.id ?? 0) : 0;
    triggers.push({ cmd: t.cmd, cell: t.cell, filter: tf, target, hist });
  }
  const c = context();
  ctx.cpu = currentCpu(c.s);
  ctx.comm = c.names.name(ctx.cpu);
  const fast = filter !== undefined && triggers.length === 0 ? { gen, match: filter.matchValues, ctx } : undefined;
  return { gen, none: false, filter, triggers, conditional: blob.conditional, fast };
}

function loaded(r: ControlRoot, instance: number, id: number): Loaded {
  const gen = Atomics.load(r.s.instFilterGen, instance * MAX_EVENTS + id);
  const per = byEvent?.[id];
  const c = per?.[instance];
  return c !== undefined && c.gen === gen ? c : reload(r, instance, id, gen);
}

function reload(r: ControlRoot, instance: number, id: number, gen: number): Loaded {
  byEvent ??= new Array<Array<Loaded | undefined> | undefined>(MAX_EVENTS).fill(undefined);
  let per = byEvent[id];
  if (per === undefined) {
    per = new Array<Loaded | undefined>(MAX_INSTANCES).fill(undefined);
    byEvent[id] = per;
  }
  const c = load(r, instance, id, gen);
  per[instance] = c;
  return c;
}

/** Uses up one firing of a count cell; false when it reached 0 (-1 in the cell = unlimited). */
function take(r: ControlRoot, cell: number): boolean {
  if (cell < 0) return true;
  const cells = r.cells;
  for (;;) {
    const c = Atomics.load(cells, cell);
    if (c === 0n) return false;
    if (c === -1n) return true;
    if (Atomics.compareExchange(cells, cell, c, c - 1n) === c) return true;
  }
}

function fire(r: ControlRoot, instance: number, c: Loaded, v: Values): void {
  for (const t of c.triggers) {
    try {
      if (t.filter && !t.filter.matchValues(v, ctx)) continue;
      switch (t.cmd) {
        case 'traceon':
          if (!isTracingOn(instance) && take(r, t.cell)) setTracingOn(instance, true);
          break;
        case 'traceoff':
          if (isTracingOn(instance) && take(r, t.cell)) setTracingOn(instance, false);
          break;
        case 'snapshot':
          if (take(r, t.cell)) snapshotFromTrigger(instance);
          break;
        case 'stacktrace':
          if (take(r, t.cell)) writeStack(instance, captureFrames());
          break;
        case 'enable_event':
        case 'disable_event': {
          if (t.target === 0) break;
          // The target is in soft mode; recording (IE_ENABLED) is what the kernel's SOFT_DISABLED negates.
          const enable = t.cmd === 'enable_event';
          const recording = (eventState(instance, t.target) & IE_ENABLED) !== 0;
          // Only a change of state uses up the count.
          if (enable === recording) break;
          if (take(r, t.cell)) setEventEnabled(instance, t.target, enable);
          break;
        }
        case 'enable_hist':
        case 'disable_hist':
          if (t.target === 0 || !take(r, t.cell)) break;
          for (const h of loaded(r, instance, t.target).triggers) h.hist?.setPaused(t.cmd === 'disable_hist');
          break;
        case 'hist':
          t.hist?.update(v, ctx);
          break;
      }
    } catch {
      // A trigger never throws into the application.
    }
  }
}

let depth = 0;
const EMPTY = {};

/** The engine's control hook (installed in every thread by install.ts): HOOK_DONE, HOOK_RECORD or HOOK_DECLINE. */
export function controlHook(instance: number, ev: CompiledEvent, state: number, values: unknown): number {
  if (ctrlRoot === undefined) ctrlRoot = findRoot();
  const r = ctrlRoot;
  if (r === undefined || depth > 2) return HOOK_DECLINE;
  const c = loaded(r, instance, ev.id);
  if (c.none) return HOOK_DECLINE;
  if (c.triggers.length === 0) {
    // Filter only (the common case): the state word the engine passed is current, the predicate never throws.
    // From the next emit on, the emit path applies it itself (until the generation moves: an entry of an older
    // generation is never used, so nothing has to remove it).
    if (c.fast !== undefined) setFastFilter(ev, instance, c.fast);
    if ((state & IE_ENABLED) === 0 || (state & IE_SOFT_DISABLED) !== 0) return HOOK_DONE;
    if (c.filter !== undefined && (state & IE_FILTER) !== 0 && !c.filter.matchValues(values as Values, ctx))
      return HOOK_DONE;
    // The engine's generated path records it (its encoder inlined): recordInto would cost ~30 ns more.
    return HOOK_RECORD;
  }
  let out = HOOK_DONE;
  depth++;
  try {
    const v = (typeof values === 'object' && values !== null ? values : EMPTY) as Values;
    if (!c.conditional) fire(r, instance, c, v);
    // Re-read: an unconditional trigger may just have changed it (traceoff keeps its own event out).
    const st = r.s.instEvent[instance * MAX_EVENTS + ev.id];
    let rec = (st & IE_ENABLED) !== 0 && (st & IE_SOFT_DISABLED) === 0;
    if (rec && (st & IE_FILTER) !== 0 && c.filter !== undefined && !c.filter.matchValues(v, ctx)) rec = false;
    if (c.conditional) {
      // The record must be in the buffer before the conditional triggers run (a snapshot swap takes it along).
      if (rec) recordInto(r.s, ev, instance, values);
      fire(r, instance, c, v);
    } else if (rec) out = HOOK_RECORD;
  } catch {
    // Never into the application.
  } finally {
    depth--;
  }
  return out;
}
