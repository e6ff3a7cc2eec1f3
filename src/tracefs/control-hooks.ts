/**
 * The `filter`, `trigger`, `hist` and `inject` files delegate to these hooks, the one place where the control
 * languages are wired. The default hooks hand everything to the control plane (`src/trace/control/`,
 * docs/CONTROL.md): filters and triggers set here are applied by every emitting thread through shared memory, and
 * `hist` tables are read from shared memory; `inject` is parsed by the inject language and emitted by the control
 * plane from this thread.
 */
import { constants } from 'node:os';
import { type ErrnoName, FsError } from '../kernfs/index.js';
import * as control from '../trace/control/index.js';
import { parseInject } from '../trace/languages/inject/parse.js';
import type { EventData, SystemData } from './state.js';

export interface ControlHooks {
  readEventFilter(ev: EventData): string;
  /** Throws FsError with the kernel's errno when the filter is refused. */
  writeEventFilter(ev: EventData, text: string): void;
  readSystemFilter(sys: SystemData): string;
  writeSystemFilter(sys: SystemData, text: string): void;
  readTrigger(ev: EventData): string;
  writeTrigger(ev: EventData, text: string): void;
  /** O_TRUNC of `trigger`: the hist triggers go, as in the kernel. */
  clearTriggers(ev: EventData): void;
  /** Whether the event has a trigger. */
  hasTrigger(ev: EventData): boolean;
  readHist(ev: EventData): string;
  writeInject(ev: EventData, text: string): void;
  /** The event's `enable` file written (0/1), with the kernel's soft-mode rules. */
  writeEnable(ev: EventData, on: boolean): void;
  /** The event left the instance (removed, or its instance went): drop its filter and triggers. */
  eventGone(instance: number, id: number): void;
  /** An instance was removed. */
  instanceGone(instance: number): void;
}

const errnoNames = new Map<number, ErrnoName>(
  Object.entries(constants.errno).map(([name, n]) => [n, name as ErrnoName]),
);

/** FsError for a positive errno number from the languages or the control plane (0: nothing to throw). */
export function check(errno: number): void {
  if (errno) throw new FsError(errnoNames.get(errno) ?? 'EINVAL');
}

export const defaultControlHooks: ControlHooks = {
  readEventFilter: (ev) => control.readEventFilter(ev.inst.index, ev.desc.id),
  writeEventFilter: (ev, text) => check(control.setEventFilter(ev.inst.index, ev.desc.id, text, ev.inst.errorLog)),
  readSystemFilter: (sys) => control.readSystemFilter(sys.inst.index, sys.name),
  writeSystemFilter: (sys, text) => check(control.setSystemFilter(sys.inst.index, sys.name, text, sys.inst.errorLog)),
  readTrigger: (ev) => control.readTrigger(ev.inst.index, ev.desc.id),
  writeTrigger: (ev, text) => check(control.writeTrigger(ev.inst.index, ev.desc.id, text, ev.inst.errorLog)),
  clearTriggers: (ev) => check(control.truncateTriggers(ev.inst.index, ev.desc.id)),
  hasTrigger: (ev) => control.hasTrigger(ev.inst.index, ev.desc.id),
  readHist: (ev) => control.readHist(ev.inst.index, ev.desc.id),
  writeInject(ev, text) {
    const r = parseInject(ev.desc, text);
    if (!r.ok) check(r.errno);
    // Emitted from this thread as the application would, into the instance that owns the file only.
    else control.injectEvent(ev.inst.index, ev.desc.id, r.inject.values);
  },
  writeEnable: (ev, on) => check(control.writeEnable(ev.inst.index, ev.desc.id, on)),
  eventGone: (instance, id) => void control.clearEventControl(instance, id),
  instanceGone: (instance) => control.dropInstance(instance),
};
