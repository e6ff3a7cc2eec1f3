/**
 * The control plane's API for the control thread (the filesystem thread): the `filter`, `trigger`, `hist` and
 * `enable` semantics of one (instance, event), kept here and published to shared memory so that every emitting
 * thread applies them at its next emit (runtime.ts). Knows no filesystem: answers are errno numbers and strings.
 *
 * The languages objects (FilterState, TriggerSet, hist registry) live in this thread; what emitting threads need
 * is published per (instance, event) as a blob (blob.ts), followed by a bump of the engine's (instance, event)
 * generation. Reading `hist` only needs shared memory, so it works in any thread.
 *
 * Every function never throws; errnos are positive numbers (0 = success).
 */

import { context } from '../context.js';
import {
  bumpFilterGeneration,
  eventState,
  findEvent,
  getEvent,
  IE_ENABLED,
  IE_FILTER,
  IE_SOFT_MODE,
  IE_TRIGGER,
  isEventLive,
  isLiveInstance,
  listEvents,
  MAX_EVENTS,
  setEventEnabled,
  updateEventState,
} from '../engine.js';
import { EINVAL, ENODEV, ENOMEM } from '../languages/errno.js';
import type { ErrorLogSink } from '../languages/error-sink.js';
import {
  type FilterState,
  readEventFilter as filterText,
  NO_FILTER,
  readSystemFilter as systemFilterText,
  writeEventFilter,
  writeSystemFilter,
} from '../languages/filter/event-filter.js';
import { HistTrigger, type HistTriggerData, readHistFile } from '../languages/hist/hist-trigger.js';
import { HistTable } from '../languages/hist/table.js';
import { type EnableFlags, enableDisable } from '../languages/trigger/soft-enable.js';
import { TriggerSet } from '../languages/trigger/trigger-set.js';
import type { TriggerControl } from '../languages/trigger/types.js';
import type { EventDescriptor } from '../record.js';
import { I_GEN, INST_WORDS } from '../shared-state.js';
import { type ControlBlob, parseBlob, type TriggerBlob } from './blob.js';
import { PooledHists } from './hist-tables.js';
import { histSlots } from './pool.js';
import {
  type ControlRoot,
  dropBlobs,
  findRoot,
  readBlob,
  releaseCell,
  root,
  takeCell,
  withRootLock,
  writeBlob,
} from './shared-control.js';
import { allocateSnapshot } from './snapshot.js';

interface EventControl {
  filter: FilterState;
  triggers: TriggerSet | undefined;
  /** Shared count cell of each trigger, by the trigger set's own count buffer (stable per trigger). */
  readonly cells: Map<SharedArrayBuffer, number>;
  /** The kernel's soft-mode reference count (sm_ref); the flags themselves are IE_* bits in shared memory. */
  smRef: number;
}

interface InstanceControl {
  /** The engine's instance generation: a destroyed and re-created instance in the same slot starts afresh. */
  readonly gen: number;
  readonly events: Map<number, EventControl>;
  readonly systemFilters: Map<string, string>;
}

const instances = new Map<number, InstanceControl>();

/** The state of an (instance, event) for read-backs; undefined when none or from an earlier instance in the slot. */
function current(instance: number, id: number): EventControl | undefined {
  const ic = instances.get(instance);
  return ic && ic.gen === instanceGen(instance) ? ic.events.get(id) : undefined;
}

function instanceGen(instance: number): number {
  return Atomics.load(context().s.instances, instance * INST_WORDS + I_GEN);
}

/** This thread's control state of a live instance (under the root lock). */
function instanceControl(r: ControlRoot, instance: number): InstanceControl {
  let ic = instances.get(instance);
  const gen = instanceGen(instance);
  if (ic && ic.gen !== gen) {
    forget(r, instance, ic);
    ic = undefined;
  }
  if (!ic) {
    ic = { gen, events: new Map(), systemFilters: new Map() };
    instances.set(instance, ic);
  }
  return ic;
}

function eventControl(ic: InstanceControl, id: number): EventControl {
  let ec = ic.events.get(id);
  if (!ec) {
    ec = { filter: NO_FILTER, triggers: undefined, cells: new Map(), smRef: 0 };
    ic.events.set(id, ec);
  }
  return ec;
}

function usable(instance: number, id: number): EventDescriptor | undefined {
  if (!Number.isInteger(instance) || !isLiveInstance(instance)) return undefined;
  if (!Number.isInteger(id) || id <= 0 || id >= MAX_EVENTS || !isEventLive(id)) return undefined;
  return getEvent(id);
}

/** Runs a control change on (instance, event) under the root lock; ENODEV for a gone instance or event. */
function change(
  instance: number,
  id: number,
  fn: (r: ControlRoot, ic: InstanceControl, ec: EventControl, ev: EventDescriptor) => number,
): number {
  try {
    const ev = usable(instance, id);
    if (!ev) return ENODEV;
    const r = root();
    if (!r) return ENOMEM;
    return withRootLock(r, () => {
      const ic = instanceControl(r, instance);
      return fn(r, ic, eventControl(ic, id), ev);
    });
  } catch {
    return EINVAL;
  }
}

// ---------- publishing ----------

/** Makes count cells follow the trigger set (new triggers get a cell, removed ones give theirs back). */
function syncCells(r: ControlRoot, ec: EventControl): void {
  const specs = ec.triggers?.toSpecs() ?? [];
  const live = new Set(specs.map((s) => s.count));
  for (const s of specs) {
    if (ec.cells.has(s.count)) continue;
    ec.cells.set(s.count, takeCell(r, Atomics.load(new BigInt64Array(s.count), 0)));
  }
  for (const [sab, cell] of ec.cells) {
    if (live.has(sab)) continue;
    ec.cells.delete(sab);
    if (cell >= 0) releaseCell(r, cell);
  }
}

/** Copies the shared counts back into the set's own cells, so its read-back shows what emitters used up. */
function pullCounts(r: ControlRoot, ec: EventControl): void {
  for (const s of ec.triggers?.toSpecs() ?? []) {
    const cell = ec.cells.get(s.count);
    if (cell !== undefined && cell >= 0) Atomics.store(new BigInt64Array(s.count), 0, Atomics.load(r.cells, cell));
  }
}

function publish(r: ControlRoot, instance: number, id: number, ec: EventControl): boolean {
  syncCells(r, ec);
  const triggers: TriggerBlob[] = [];
  for (const s of ec.triggers?.toSpecs() ?? []) {
    let hist: TriggerBlob['hist'];
    if (s.hist !== undefined) {
      const h = s.hist as HistTriggerData;
      const slot = histSlots().indexOf(h.sab);
      if (slot < 0) continue;
      histsOf(r).publish(slot);
      hist = { spec: h.spec, shape: h.shape, slot };
    }
    triggers.push({
      cmd: s.cmd,
      cell: ec.cells.get(s.count) ?? -1,
      ...(s.filterText !== undefined ? { filter: s.filterText } : {}),
      ...(s.target !== undefined ? { target: s.target } : {}),
      ...(hist !== undefined ? { hist } : {}),
    });
  }
  const active = ec.filter.filter !== undefined && ec.filter.text !== undefined;
  const blob: ControlBlob = {
    ...(active ? { filter: ec.filter.text } : {}),
    triggers,
    conditional: ec.triggers?.conditional ?? false,
  };
  const ok = writeBlob(r, instance, id, JSON.stringify(blob));
  const set = (active ? IE_FILTER : 0) | (triggers.length > 0 ? IE_TRIGGER : 0);
  const clear = (active ? 0 : IE_FILTER) | (triggers.length > 0 ? 0 : IE_TRIGGER);
  updateEventState(instance, id, ok ? set : 0, ok ? clear : IE_FILTER | IE_TRIGGER);
  bumpFilterGeneration(instance, id);
  return ok;
}

// ---------- enable and soft mode ----------

/*
 * The kernel's flags over the engine's bits: IE_ENABLED means "recording" (the kernel's ENABLED and not
 * SOFT_DISABLED), IE_SOFT_MODE is SOFT_MODE; a soft-disabled event is one in soft mode that does not record. A
 * triggered event's tracepoint stays live through IE_TRIGGER, and an enable_event target needs no live tracepoint
 * until it is switched on, so nothing else is needed — and the `enable` file (`0*`/`1*`) and `set_event` keep
 * working on IE_ENABLED as they do without triggers.
 */
function flagsOf(instance: number, id: number, ec: EventControl): EnableFlags {
  const st = eventState(instance, id);
  const softMode = (st & IE_SOFT_MODE) !== 0;
  const recording = (st & IE_ENABLED) !== 0;
  return { enabled: recording || softMode, softMode, softDisabled: softMode && !recording, smRef: ec.smRef };
}

function applyFlags(instance: number, id: number, ec: EventControl, f: EnableFlags): void {
  ec.smRef = f.smRef;
  const recording = f.enabled && !f.softDisabled;
  if (((eventState(instance, id) & IE_ENABLED) !== 0) !== recording) setEventEnabled(instance, id, recording);
  updateEventState(instance, id, f.softMode ? IE_SOFT_MODE : 0, f.softMode ? 0 : IE_SOFT_MODE);
}

function triggerControl(instance: number, ic: InstanceControl): TriggerControl {
  return {
    eventExists: (system, event) => findEvent(system, event) !== undefined,
    softEnable(system, event, enable) {
      const target = findEvent(system, event);
      if (!target) return;
      const tc = eventControl(ic, target.id);
      const f = flagsOf(instance, target.id, tc);
      enableDisable(f, enable, true);
      applyFlags(instance, target.id, tc, f);
    },
  };
}

/**
 * The `enable` file's write with the kernel's soft-mode rules: writing 0 to an event a trigger holds leaves it
 * live but soft-disabled (`0*`); writing 1 clears the soft-disable.
 */
export function writeEnable(instance: number, id: number, on: boolean): number {
  // Outside soft mode the kernel's rule is a plain switch: no control state needed (set_event, events/enable).
  if (current(instance, id) === undefined && (eventState(instance, id) & IE_SOFT_MODE) === 0)
    return usable(instance, id) && setEventEnabled(instance, id, on) ? 0 : ENODEV;
  return change(instance, id, (_r, _ic, ec) => {
    const f = flagsOf(instance, id, ec);
    enableDisable(f, on, false);
    applyFlags(instance, id, ec, f);
    return 0;
  });
}

// ---------- filters ----------

/** Writes `events/S/E/filter`; the previous filter is replaced (and disabled if the new one is rejected). */
export function setEventFilter(instance: number, id: number, text: string, log: ErrorLogSink): number {
  return change(instance, id, (r, _ic, ec, ev) => {
    const res = writeEventFilter(ev, text, log);
    ec.filter = res.state;
    if (!publish(r, instance, id, ec)) return ENOMEM;
    return res.errno;
  });
}

export function readEventFilter(instance: number, id: number): string {
  return filterText(current(instance, id)?.filter ?? NO_FILTER);
}

/** Writes `events/S/filter`: every event of the system gets the filter (or a disabled one where it does not fit). */
export function setSystemFilter(instance: number, system: string, text: string, log: ErrorLogSink): number {
  try {
    if (!isLiveInstance(instance)) return ENODEV;
    const events = listEvents().filter((e) => e.system === system);
    const r = root();
    if (!r) return ENOMEM;
    return withRootLock(r, () => {
      const res = writeSystemFilter(events, text, log);
      const ic = instanceControl(r, instance);
      if (res.systemText === undefined) ic.systemFilters.delete(system);
      else ic.systemFilters.set(system, res.systemText);
      for (const ev of events) {
        const st = res.events.get(ev);
        if (!st) continue;
        const ec = eventControl(ic, ev.id);
        ec.filter = st;
        if (!publish(r, instance, ev.id, ec)) return ENOMEM;
      }
      return res.errno;
    });
  } catch {
    return EINVAL;
  }
}

export function readSystemFilter(instance: number, system: string): string {
  const ic = instances.get(instance);
  return systemFilterText(ic && ic.gen === instanceGen(instance) ? ic.systemFilters.get(system) : undefined);
}

// ---------- triggers ----------

/** A write to `events/S/E/trigger` (`cmd[:N] [if filter]`, `!cmd`, `hist:...`). */
export function writeTrigger(instance: number, id: number, text: string, log: ErrorLogSink): number {
  return change(instance, id, (r, ic, ec, ev) => {
    ec.triggers ??= new TriggerSet(ev, histsOf(r).factory);
    pullCounts(r, ec);
    const errno = ec.triggers.write(text, triggerControl(instance, ic), log);
    histsOf(r).reconcile(allHists());
    // As the kernel arms a snapshot trigger: the buffer it swaps with is allocated when the trigger is set.
    if (errno === 0 && ec.triggers.toSpecs().some((s) => s.cmd === 'snapshot')) allocateSnapshot(instance);
    if (!publish(r, instance, id, ec)) return ENOMEM;
    return errno;
  });
}

/** O_TRUNC of `trigger`: removes the hist triggers (as the kernel). */
export function truncateTriggers(instance: number, id: number): number {
  return change(instance, id, (r, ic, ec) => {
    if (!ec.triggers) return 0;
    ec.triggers.truncate(triggerControl(instance, ic));
    histsOf(r).reconcile(allHists());
    publish(r, instance, id, ec);
    return 0;
  });
}

/** Removes every trigger and the filter of an event (before the event goes away). */
export function clearEventControl(instance: number, id: number): number {
  return change(instance, id, (r, ic, ec) => {
    ec.triggers?.clear(triggerControl(instance, ic));
    ec.filter = NO_FILTER;
    histsOf(r).reconcile(allHists());
    publish(r, instance, id, ec);
    return 0;
  });
}

export function readTrigger(instance: number, id: number): string {
  const ec = current(instance, id);
  const r = findRoot();
  if (ec?.triggers === undefined || r === undefined) return new TriggerSet(getEvent(id) ?? DUMMY).read();
  return withRootLock(r, () => {
    pullCounts(r, ec);
    return ec.triggers!.read();
  });
}

const DUMMY = { id: 0, system: '', name: '', fields: [], print: '' } as unknown as EventDescriptor;

export function hasTrigger(instance: number, id: number): boolean {
  return (current(instance, id)?.triggers?.size ?? 0) > 0;
}

/** Every hist trigger this thread controls (named hists are shared across events and instances, as the kernel's). */
function allHists() {
  const out = [];
  for (const ic of instances.values())
    for (const ec of ic.events.values()) if (ec.triggers) out.push(...ec.triggers.histTriggers());
  return out;
}

let pooled: PooledHists | undefined;

function histsOf(r: ControlRoot): PooledHists {
  pooled ??= new PooledHists(r);
  return pooled;
}

// ---------- hist (any thread) ----------

/** Content of `events/S/E/hist`, from shared memory only: any thread, whatever the emitting threads are doing. */
export function readHist(instance: number, id: number): string {
  try {
    const ev = getEvent(id);
    const r = findRoot();
    if (!ev || r === undefined) return '';
    const blob = parseBlob(readBlob(r, instance, id));
    if (!blob) return '';
    const pool = histSlots();
    const hists: HistTrigger[] = [];
    for (const t of blob.triggers) {
      if (t.cmd !== 'hist' || !t.hist) continue;
      const table = new HistTable(t.hist.shape, pool[t.hist.slot]);
      hists.push(new HistTrigger(ev, t.hist.spec, table, undefined));
    }
    return readHistFile(hists);
  } catch {
    return '';
  }
}

// ---------- instances ----------

function forget(r: ControlRoot, instance: number, ic: InstanceControl | undefined): void {
  instances.delete(instance);
  if (ic) {
    for (const ec of ic.events.values()) for (const cell of ec.cells.values()) if (cell >= 0) releaseCell(r, cell);
    histsOf(r).reconcile(allHists());
  }
  dropBlobs(r, instance);
}

/**
 * Frees the control state of a destroyed instance at once (otherwise it goes when the slot's next instance is
 * first controlled).
 */
export function dropInstance(instance: number): void {
  const r = findRoot();
  if (!r) return;
  withRootLock(r, () => {
    const ic = instances.get(instance);
    if (ic && ic.gen === instanceGen(instance) && isLiveInstance(instance)) return;
    forget(r, instance, ic);
  });
}
