/**
 * The `filter`, `trigger`, `hist` and `inject` files delegate to these hooks, so the control languages can be wired
 * in one place. The default hooks use what the languages library offers today: filters are parsed, read back and
 * logged as the kernel does (but not yet applied by emitting threads), triggers are parsed, stored and read back
 * (not yet fired), `hist` shows the event's hist triggers and tables (not yet updated by emits), and `inject` parses with the inject language and emits the event from the
 * filesystem thread. See docs/TRACEFS.md.
 */
import { constants } from 'node:os';
import { type ErrnoName, FsError } from '../kernfs/index.js';
import { IE_SOFT_MODE, IE_TRIGGER, updateEventState } from '../trace/engine.js';
import { defineEvent, type TraceEvent } from '../trace/event.js';
import {
  type FilterState,
  NO_FILTER,
  readEventFilter,
  readSystemFilter,
  writeEventFilter,
  writeSystemFilter,
} from '../trace/languages/filter/event-filter.js';
import { HistRegistry, readHistFile } from '../trace/languages/hist/hist-trigger.js';
import { parseInject } from '../trace/languages/inject/parse.js';
import { TriggerSet } from '../trace/languages/trigger/trigger-set.js';
import type { TriggerControl } from '../trace/languages/trigger/types.js';
import type { EventDescriptor } from '../trace/record.js';
import type { EventData, SystemData } from './state.js';

/** Per (instance, event) state the hooks keep; created on the first write to one of its control files. */
export interface EventControlState {
  filter: FilterState;
  triggers: TriggerSet | undefined;
}

export interface ControlHooks {
  readEventFilter(ev: EventData): string;
  /** Throws FsError with the kernel's errno when the filter is refused. */
  writeEventFilter(ev: EventData, text: string): void;
  readSystemFilter(sys: SystemData): string;
  writeSystemFilter(sys: SystemData, text: string): void;
  readTrigger(ev: EventData): string;
  writeTrigger(ev: EventData, text: string): void;
  /** O_TRUNC of `trigger`: every trigger of the event goes. */
  clearTriggers(ev: EventData): void;
  /** Whether the event has a trigger (events with one cannot be removed). */
  hasTrigger(ev: EventData): boolean;
  readHist(ev: EventData): string;
  writeInject(ev: EventData, text: string): void;
}

const errnoNames = new Map<number, ErrnoName>(
  Object.entries(constants.errno).map(([name, n]) => [n, name as ErrnoName]),
);

/** FsError for a positive errno number from the languages. */
export function errnoError(errno: number): FsError {
  return new FsError(errnoNames.get(errno) ?? 'EINVAL');
}

/** Named histograms are shared across events (and instances), as in the kernel: one registry per serving thread. */
const histograms = new HistRegistry();

function stateOf(ev: EventData): EventControlState {
  ev.control ??= { filter: NO_FILTER, triggers: undefined };
  return ev.control;
}

function triggerControl(ev: EventData): TriggerControl {
  const inst = ev.inst;
  return {
    eventExists: (system, event) => inst.systems.get(system)?.events.has(event) === true,
    softEnable(system, event, enable) {
      const target = inst.systems.get(system)?.events.get(event);
      if (!target) return;
      // Counted like the kernel's sm_ref; shown as `0*`/`1*` by the enable file. Firing is wired with the
      // languages (see docs/TRACEFS.md).
      if (enable) {
        if (target.softRefs++ === 0) updateEventState(inst.index, target.desc.id, IE_SOFT_MODE, 0);
      } else if (target.softRefs > 0 && --target.softRefs === 0) {
        updateEventState(inst.index, target.desc.id, 0, IE_SOFT_MODE);
      }
    },
  };
}

export const defaultControlHooks: ControlHooks = {
  readEventFilter: (ev) => readEventFilter(ev.control?.filter ?? NO_FILTER),
  writeEventFilter(ev, text) {
    const r = writeEventFilter(ev.desc, text, ev.inst.errorLog);
    stateOf(ev).filter = r.state;
    if (r.errno) throw errnoError(r.errno);
  },
  readSystemFilter: (sys) => readSystemFilter(sys.filterText),
  writeSystemFilter(sys, text) {
    const events = [...sys.events.values()];
    const r = writeSystemFilter(
      events.map((e) => e.desc),
      text,
      sys.inst.errorLog,
    );
    sys.filterText = r.systemText;
    for (const ev of events) {
      const st = r.events.get(ev.desc);
      if (st) stateOf(ev).filter = st;
    }
    if (r.errno) throw errnoError(r.errno);
  },
  readTrigger(ev) {
    const set = ev.control?.triggers ?? new TriggerSet(ev.desc, histograms.factory);
    return set.read();
  },
  writeTrigger(ev, text) {
    const st = stateOf(ev);
    st.triggers ??= new TriggerSet(ev.desc, histograms.factory);
    const errno = st.triggers.write(text, triggerControl(ev), ev.inst.errorLog);
    markTriggered(ev);
    if (errno) throw errnoError(errno);
  },
  clearTriggers(ev) {
    const set = ev.control?.triggers;
    if (!set) return;
    set.truncate(triggerControl(ev));
    markTriggered(ev);
  },
  hasTrigger: (ev) => (ev.control?.triggers?.size ?? 0) > 0,
  readHist: (ev) => readHistFile(ev.control?.triggers?.histTriggers() ?? []),
  writeInject(ev, text) {
    const r = parseInject(ev.desc, text);
    if (!r.ok) throw errnoError(r.errno);
    // Emitted from this thread as the application would (into every instance recording the event).
    tracepointOf(ev.desc)?.emit(r.inject.values as never);
  },
};

const tracepoints = new Map<number, TraceEvent | null>();

/** This thread's handle on an event defined elsewhere (an identical definition returns the same tracepoint). */
function tracepointOf(desc: EventDescriptor): TraceEvent | undefined {
  let tp = tracepoints.get(desc.id);
  if (tp === undefined) {
    try {
      const fields = Object.fromEntries(desc.fields.map((f) => [f.name, f.type]));
      tp = defineEvent(desc.system, desc.name, fields, desc.print !== undefined ? { print: desc.print } : {});
    } catch {
      tp = null;
    }
    tracepoints.set(desc.id, tp);
  }
  return tp ?? undefined;
}

/** Keeps the engine's "has a trigger" bit in step with the set (it is what makes removal answer EBUSY). */
function markTriggered(ev: EventData): void {
  const n = ev.control?.triggers?.size ?? 0;
  if (n > 0) updateEventState(ev.inst.index, ev.desc.id, IE_TRIGGER, 0);
  else updateEventState(ev.inst.index, ev.desc.id, 0, IE_TRIGGER);
}
