/**
 * eventfs: `events/`, `events/SYSTEM/` and `events/SYSTEM/EVENT/` are kernfs template directories sharing three
 * frozen tables. A file exists only as a table row until the kernel looks it up; its callbacks read the engine's
 * shared memory (enable state) or the small per-event object (control files).
 */
import type { DirNode, FileOps, Kernfs, OpenedFile, TemplateFileSpec, TemplateTable } from '../kernfs/index.js';
import { eventState, IE_ENABLED, IE_SOFT_MODE } from '../trace/engine.js';
import type { EventDescriptor } from '../trace/record.js';
import { formatFileText, headerEventText, headerPageText } from '../trace/text/index.js';
import { busyOps } from './busy.js';
import type { ControlHooks } from './control-hooks.js';
import { MODE_EVENTFS_DIR, MODE_RO, MODE_RW, MODE_WO } from './modes.js';
import { isWriteTrunc, parseBoolean, writtenText } from './parse.js';
import { EventData, EventsDirData, isFtraceInternal, SystemData, type TraceInstance } from './state.js';

function dirData<T>(file: OpenedFile): T {
  return file.node.parent!.priv as T;
}
const eventOf = (file: OpenedFile): EventData => dirData<EventData>(file);
const systemOf = (file: OpenedFile): SystemData => dirData<SystemData>(file);
const eventsOf = (file: OpenedFile): EventsDirData => dirData<EventsDirData>(file);

// ---- enable -------------------------------------------------------------------------------------------------------

/** The event's enable text: `0`, `1`, or `0*`/`1*` while a trigger holds it in soft mode. */
export function eventEnableText(inst: TraceInstance, id: number): string {
  const st = eventState(inst.index, id);
  const on = (st & IE_ENABLED) !== 0;
  const soft = (st & IE_SOFT_MODE) !== 0;
  return `${on ? '1' : '0'}${soft ? '*' : ''}\n`;
}

/** `0`, `1` or `X` (mixed) over a set of events, as the system and top-level enable files print. */
export function aggregateEnableText(inst: TraceInstance, events: Iterable<EventData>): string {
  let set = 0;
  for (const ev of events) {
    if (isFtraceInternal(ev.desc)) continue;
    set |= 1 << ((eventState(inst.index, ev.desc.id) & (IE_ENABLED | IE_SOFT_MODE)) !== 0 ? 1 : 0);
    if (set === 3) break;
  }
  return set === 2 ? '1\n' : set === 3 ? 'X\n' : '0\n';
}

/** Turns recording of `events` on or off (ftrace's own events are not switchable), as their enable files do. */
export function setEnabled(inst: TraceInstance, events: Iterable<EventData>, on: boolean): void {
  for (const ev of events) if (!isFtraceInternal(ev.desc)) inst.hooks.writeEnable(ev, on);
}

function* allEvents(inst: TraceInstance): Iterable<EventData> {
  for (const sys of inst.systems.values()) yield* sys.events.values();
}

const eventEnableOps = busyOps((f) => eventOf(f).inst, {
  show: (file) => {
    const ev = eventOf(file);
    return eventEnableText(ev.inst, ev.desc.id);
  },
  write(file, data) {
    const ev = eventOf(file);
    ev.inst.hooks.writeEnable(ev, parseBoolean(data));
    return undefined;
  },
});

const systemEnableOps = busyOps((f) => systemOf(f).inst, {
  show: (file) => {
    const sys = systemOf(file);
    return aggregateEnableText(sys.inst, sys.events.values());
  },
  write(file, data) {
    const sys = systemOf(file);
    setEnabled(sys.inst, sys.events.values(), parseBoolean(data));
    return undefined;
  },
});

const topEnableOps = busyOps((f) => eventsOf(f).inst, {
  show: (file) => {
    const inst = eventsOf(file).inst;
    return aggregateEnableText(inst, allEvents(inst));
  },
  write(file, data) {
    const inst = eventsOf(file).inst;
    setEnabled(inst, allEvents(inst), parseBoolean(data));
    return undefined;
  },
});

// ---- control files (delegated to the hooks) -------------------------------------------------------------------

function controlOps(hooks: ControlHooks) {
  const eventFilter = busyOps((f) => eventOf(f).inst, {
    show: (file) => hooks.readEventFilter(eventOf(file)),
    write(file, data) {
      hooks.writeEventFilter(eventOf(file), writtenText(data));
      return undefined;
    },
  });
  const systemFilter = busyOps((f) => systemOf(f).inst, {
    show: (file) => hooks.readSystemFilter(systemOf(file)),
    write(file, data) {
      hooks.writeSystemFilter(systemOf(file), writtenText(data));
      return undefined;
    },
  });
  const trigger: FileOps = Object.freeze({
    open(file: OpenedFile) {
      if (isWriteTrunc(file)) hooks.clearTriggers(eventOf(file));
    },
    show: (file: OpenedFile) => hooks.readTrigger(eventOf(file)),
    write(file: OpenedFile, data: Uint8Array) {
      hooks.writeTrigger(eventOf(file), writtenText(data));
      return undefined;
    },
  });
  const hist: FileOps = Object.freeze({ show: (file: OpenedFile) => hooks.readHist(eventOf(file)) });
  const inject: FileOps = Object.freeze({
    write(file: OpenedFile, data: Uint8Array) {
      hooks.writeInject(eventOf(file), writtenText(data));
      return undefined;
    },
  });
  return { eventFilter, systemFilter, trigger, hist, inject };
}

const formatOps: FileOps = Object.freeze({ show: (file: OpenedFile) => formatFileText(eventOf(file).desc) });
const idOps: FileOps = Object.freeze({ show: (file: OpenedFile) => `${eventOf(file).desc.id}\n` });
const headerPageOps = busyOps((f) => eventsOf(f).inst, { show: () => headerPageText() });
const headerEventOps: FileOps = Object.freeze({ show: () => headerEventText() });

// ---- the three tables ---------------------------------------------------------------------------------------------

function spec(mode: number, ops: FileOps): TemplateFileSpec {
  return Object.freeze({ mode, ops });
}

export interface EventfsTables {
  readonly events: TemplateTable<EventsDirData>;
  readonly system: TemplateTable<SystemData>;
  readonly event: TemplateTable<EventData>;
}

/** The three tables, built once per mount (the control hooks are the only thing that varies). */
export function eventfsTables(hooks: ControlHooks): EventfsTables {
  const c = controlOps(hooks);
  const topEnable = spec(MODE_RW, topEnableOps);
  const headerPage = spec(MODE_RO, headerPageOps);
  const headerEvent = spec(MODE_RO, headerEventOps);
  const sysEnable = spec(MODE_RW, systemEnableOps);
  const sysFilter = spec(MODE_RW, c.systemFilter);
  const evEnable = spec(MODE_RW, eventEnableOps);
  const evFilter = spec(MODE_RW, c.eventFilter);
  const evTrigger = spec(MODE_RW, c.trigger);
  const evFormat = spec(MODE_RO, formatOps);
  const evId = spec(MODE_RO, idOps);
  const evHist = spec(MODE_RO, c.hist);
  const evInject = spec(MODE_WO, c.inject);
  // ftrace's own events have only `format` and `id`, like the kernel's; a system of nothing but those has no files.
  const switchable = (s: TemplateFileSpec) => (_: string, ev: EventData) => (isFtraceInternal(ev.desc) ? null : s);
  const sysSwitchable = (s: TemplateFileSpec) => (_: string, sys: SystemData) => (sys.name === 'ftrace' ? null : s);
  return {
    events: Object.freeze([
      { name: 'enable', callback: () => topEnable },
      { name: 'header_page', callback: () => headerPage },
      { name: 'header_event', callback: () => headerEvent },
    ]),
    system: Object.freeze([
      { name: 'enable', callback: sysSwitchable(sysEnable) },
      { name: 'filter', callback: sysSwitchable(sysFilter) },
    ]),
    event: Object.freeze([
      { name: 'enable', callback: switchable(evEnable) },
      { name: 'filter', callback: switchable(evFilter) },
      { name: 'trigger', callback: switchable(evTrigger) },
      { name: 'format', callback: () => evFormat },
      { name: 'id', callback: () => evId },
      { name: 'hist', callback: switchable(evHist) },
      { name: 'inject', callback: switchable(evInject) },
    ]),
  };
}

// ---- building and pruning -------------------------------------------------------------------------------------

/** Creates `events/` under the instance directory. */
export function createEventsDir(tree: Kernfs, tables: EventfsTables, inst: TraceInstance): void {
  inst.eventsDir = tree.createTemplateDir(inst.dir, 'events', tables.events, new EventsDirData(inst), {
    mode: MODE_EVENTFS_DIR,
  });
}

/** Adds the directory of one event (and its system's, the first time) to an instance. */
export function addEvent(tree: Kernfs, tables: EventfsTables, inst: TraceInstance, desc: EventDescriptor): void {
  if (inst.events.has(desc.id)) return;
  let sys = inst.systems.get(desc.system);
  if (!sys) {
    sys = new SystemData(inst, desc.system);
    sys.dir = tree.createTemplateDir(inst.eventsDir, desc.system, tables.system, sys, { mode: MODE_EVENTFS_DIR });
    inst.systems.set(desc.system, sys);
  }
  if (sys.events.has(desc.name)) return;
  const ev = new EventData(sys, desc);
  ev.dir = tree.createTemplateDir(sys.dir, desc.name, tables.event, ev, { mode: MODE_EVENTFS_DIR });
  sys.events.set(desc.name, ev);
  inst.events.set(desc.id, ev);
}

/** Removes an event's directory (open files in it answer ENODEV); the system goes with its last event. */
export function removeEvent(tree: Kernfs, inst: TraceInstance, id: number): void {
  const ev = inst.events.get(id);
  if (!ev) return;
  inst.events.delete(id);
  inst.hooks.eventGone(inst.index, id);
  const sys = ev.system;
  sys.events.delete(ev.desc.name);
  removeQuietly(tree, ev.dir);
  if (sys.events.size === 0) {
    inst.systems.delete(sys.name);
    removeQuietly(tree, sys.dir);
  }
}

/** Removal of an eventfs directory: open files in it answer ENODEV from now on; nothing can make it fail. */
function removeQuietly(tree: Kernfs, dir: DirNode): void {
  try {
    void tree.remove(dir).catch(() => {});
  } catch {}
}
