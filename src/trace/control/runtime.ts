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
import { type CompiledEvent, type FastFilter, recordInto, setFastFilter } from '../emitter.js';
import {
  eventState,
  findEvent,
  getEvent,
  IE_ENABLED,
  IE_FILTER,
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
import { type Firing, fireTriggers, type TriggerActions, toFiring } from '../languages/trigger/fire.js';
import { currentCpu } from '../threads.js';
import { parseBlob } from './blob.js';
import { histSlots } from './pool.js';
import { type ControlRoot, findRoot, readBlob } from './shared-control.js';
import { snapshotFromTrigger } from './snapshot.js';

const NULL_LOG = { add() {} };

interface Loaded {
  readonly gen: number;
  /** No blob: the engine's own path handles the record. */
  readonly none: boolean;
  readonly filter: CompiledFilter | undefined;
  readonly triggers: readonly Firing[];
  /** The hist triggers' tables, for enable_hist/disable_hist targeting this event. */
  readonly hists: readonly HistTrigger[];
  readonly conditional: boolean;
  /** Filter only: what the emit path applies itself from the next emit on (setFastFilter). */
  readonly fast: FastFilter | undefined;
}

const NONE = (gen: number): Loaded => ({
  gen,
  none: true,
  filter: undefined,
  triggers: [],
  hists: [],
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
  const triggers: Firing[] = [];
  const hists: HistTrigger[] = [];
  const pool = histSlots();
  for (const t of blob.triggers) {
    let hist: HistTrigger | undefined;
    if (t.cmd === 'hist') {
      if (!t.hist) continue;
      hist = HistTrigger.fromSpec(ev, { spec: t.hist.spec, shape: t.hist.shape, sab: pool[t.hist.slot] });
      hists.push(hist);
    }
    const target = t.target ? (findEvent(t.target.system, t.target.event)?.id ?? 0) : 0;
    triggers.push(toFiring(ev, t, r.cells, t.cell, target, hist));
  }
  const c = context();
  ctx.cpu = currentCpu(c.s);
  ctx.comm = c.names.name(ctx.cpu);
  const fast = filter !== undefined && triggers.length === 0 ? { gen, match: filter.matchValues, ctx } : undefined;
  return { gen, none: false, filter, triggers, hists, conditional: blob.conditional, fast };
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

/** The actions of fired triggers in one instance (one object per instance: nothing is allocated per emit). */
function actionsOf(r: ControlRoot, instance: number): TriggerActions {
  actions ??= new Array<TriggerActions | undefined>(MAX_INSTANCES).fill(undefined);
  let a = actions[instance];
  if (a === undefined) {
    a = {
      isTracingOn: () => isTracingOn(instance),
      setTracingOn: (on) => setTracingOn(instance, on),
      snapshot: () => snapshotFromTrigger(instance),
      stacktrace: (frames) => writeStack(instance, frames),
      // The target is in soft mode; recording (IE_ENABLED) is what the kernel's SOFT_DISABLED negates.
      isRecording: (target) => (eventState(instance, target) & IE_ENABLED) !== 0,
      setRecording: (target, on) => void setEventEnabled(instance, target, on),
      setHistPaused(target, paused) {
        for (const h of loaded(r, instance, target).hists) h.setPaused(paused);
      },
    };
    actions[instance] = a;
  }
  return a;
}

let actions: Array<TriggerActions | undefined> | undefined;
let depth = 0;
const EMPTY = {};

/**
 * The engine's control hook (a thread loads it on its first emit that meets a filter or trigger: on-demand.ts): true
 * when the caller records the emit itself (as a plain enabled event), false when nothing more is to be done for this
 * instance.
 */
export function controlHook(instance: number, ev: CompiledEvent, state: number, values: unknown): boolean {
  if (ctrlRoot === undefined) ctrlRoot = findRoot();
  const r = ctrlRoot;
  // No control state to apply (none published, or nested deeper than a trigger can): a plain event.
  if (r === undefined || depth > 2) return (state & IE_ENABLED) !== 0;
  const c = loaded(r, instance, ev.id);
  if (c.none) return (state & IE_ENABLED) !== 0;
  if (c.triggers.length === 0) {
    // Filter only (the common case): the state word the engine passed is current, the predicate never throws.
    // From the next emit on, the emit path applies it itself (until the generation moves: an entry of an older
    // generation is never used, so nothing has to remove it).
    if (c.fast !== undefined) setFastFilter(ev, instance, c.fast);
    if ((state & IE_ENABLED) === 0) return false;
    // The engine's generated path records it (its encoder inlined): recordInto would cost ~30 ns more.
    return c.filter === undefined || (state & IE_FILTER) === 0 || c.filter.matchValues(values as Values, ctx);
  }
  let out = false;
  depth++;
  try {
    const v = (typeof values === 'object' && values !== null ? values : EMPTY) as Values;
    const a = actionsOf(r, instance);
    if (!c.conditional) fireTriggers(c.triggers, v, ctx, a);
    // Re-read: an unconditional trigger may just have changed it (traceoff keeps its own event out).
    const st = r.s.instEvent[instance * MAX_EVENTS + ev.id];
    let rec = (st & IE_ENABLED) !== 0;
    if (rec && (st & IE_FILTER) !== 0 && c.filter !== undefined && !c.filter.matchValues(v, ctx)) rec = false;
    if (c.conditional) {
      // The record must be in the buffer before the conditional triggers run (a snapshot swap takes it along).
      if (rec) recordInto(r.s, ev, instance, values);
      fireTriggers(c.triggers, v, ctx, a);
    } else out = rec;
  } catch {
    // Never into the application.
  } finally {
    depth--;
  }
  return out;
}
