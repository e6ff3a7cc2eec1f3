/**
 * eventfs: `events/`, `events/SYSTEM/` and `events/SYSTEM/EVENT/` are kernfs template directories sharing three
 * frozen tables. A file exists only as a table row until the kernel looks it up; its ops read the engine's shared
 * memory (enable state) or hand the control files to the control plane (src/trace/control, docs/CONTROL.md), which
 * every emitting thread applies.
 */
import {
  checkErrno,
  type DirNode,
  type Kernfs,
  type KernfsNode,
  type OpenedFile,
  type TemplateTable,
} from '../kernfs/index.js';
import {
  clearEventControl,
  type EventDescriptor,
  eventState,
  formatFileText,
  headerEventText,
  headerPageText,
  IE_ENABLED,
  IE_SOFT_MODE,
  injectEvent,
  parseInject,
  readEventFilter,
  readHist,
  readSystemFilter,
  readTrigger,
  setEventFilter,
  setSystemFilter,
  truncateTriggers,
  writeEnable,
  writeTrigger,
} from '../trace/index.js';
import { MODE_EVENTFS_DIR, MODE_RO, MODE_RW, MODE_WO } from './modes.js';
import { isWriteTrunc, parseBoolean, writtenText } from './parse.js';
import { EventData, EventsDirData, isFtraceInternal, SystemData, type TraceInstance } from './state.js';
import { fileTable } from './table.js';

function dirData<T>(file: OpenedFile): T {
  return file.node.parent!.priv as T;
}
const eventOf = (file: OpenedFile): EventData => dirData<EventData>(file);
const eventOfNode = (node: KernfsNode): EventData => node.parent!.priv as EventData;
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
  for (const ev of events) if (!isFtraceInternal(ev.desc)) checkErrno(writeEnable(inst.index, ev.desc.id, on));
}

function* allEvents(inst: TraceInstance): Iterable<EventData> {
  for (const sys of inst.systems.values()) yield* sys.events.values();
}

// ---- the three tables ---------------------------------------------------------------------------------------------
// Each row is a whole file, as in the kernel's event_inode.c / trace_events.c callbacks. ftrace's own events have
// only `format` and `id`, like the kernel's; a system of nothing but those has no files.

const switchable = (ev: EventData): boolean => !isFtraceInternal(ev.desc);
const switchableSystem = (sys: SystemData): boolean => sys.name !== 'ftrace';

/** `events/`. */
export const EVENTS_TABLE: TemplateTable<EventsDirData> = fileTable<EventsDirData>([
  {
    name: 'enable',
    mode: MODE_RW,
    busy: true,
    ops: {
      show: (file) => {
        const inst = eventsOf(file).inst;
        return aggregateEnableText(inst, allEvents(inst));
      },
      write(file, data) {
        const inst = eventsOf(file).inst;
        setEnabled(inst, allEvents(inst), parseBoolean(data));
        return undefined;
      },
    },
  },
  { name: 'header_page', mode: MODE_RO, busy: true, ops: { constant: () => headerPageText() } },
  { name: 'header_event', mode: MODE_RO, ops: { constant: () => headerEventText() } },
]);

/** `events/SYSTEM/`. */
export const SYSTEM_TABLE: TemplateTable<SystemData> = fileTable<SystemData>([
  {
    name: 'enable',
    mode: MODE_RW,
    busy: true,
    when: switchableSystem,
    ops: {
      show: (file) => {
        const sys = systemOf(file);
        return aggregateEnableText(sys.inst, sys.events.values());
      },
      write(file, data) {
        const sys = systemOf(file);
        setEnabled(sys.inst, sys.events.values(), parseBoolean(data));
        return undefined;
      },
    },
  },
  {
    name: 'filter',
    mode: MODE_RW,
    busy: true,
    when: switchableSystem,
    ops: {
      show: (file) => {
        const sys = systemOf(file);
        return readSystemFilter(sys.inst.index, sys.name);
      },
      write(file, data) {
        const sys = systemOf(file);
        checkErrno(setSystemFilter(sys.inst.index, sys.name, writtenText(data), sys.inst.errorLog));
        return undefined;
      },
    },
  },
]);

/** `events/SYSTEM/EVENT/`. */
export const EVENT_TABLE: TemplateTable<EventData> = fileTable<EventData>([
  {
    name: 'enable',
    mode: MODE_RW,
    busy: true,
    when: switchable,
    ops: {
      show: (file) => {
        const ev = eventOf(file);
        return eventEnableText(ev.inst, ev.desc.id);
      },
      write(file, data) {
        const ev = eventOf(file);
        checkErrno(writeEnable(ev.inst.index, ev.desc.id, parseBoolean(data)));
        return undefined;
      },
    },
  },
  {
    name: 'filter',
    mode: MODE_RW,
    busy: true,
    when: switchable,
    ops: {
      show: (file) => {
        const ev = eventOf(file);
        return readEventFilter(ev.inst.index, ev.desc.id);
      },
      write(file, data) {
        const ev = eventOf(file);
        checkErrno(setEventFilter(ev.inst.index, ev.desc.id, writtenText(data), ev.inst.errorLog));
        return undefined;
      },
    },
  },
  {
    name: 'trigger',
    mode: MODE_RW,
    when: switchable,
    ops: {
      // O_TRUNC: the hist triggers go too, as in the kernel.
      open(file) {
        const ev = eventOf(file);
        if (isWriteTrunc(file)) checkErrno(truncateTriggers(ev.inst.index, ev.desc.id));
      },
      show: (file) => {
        const ev = eventOf(file);
        return readTrigger(ev.inst.index, ev.desc.id);
      },
      write(file, data) {
        const ev = eventOf(file);
        checkErrno(writeTrigger(ev.inst.index, ev.desc.id, writtenText(data), ev.inst.errorLog));
        return undefined;
      },
    },
  },
  // An event's description never changes while its directory stands: constant, so cached across opens.
  { name: 'format', mode: MODE_RO, ops: { constant: (node) => formatFileText(eventOfNode(node).desc) } },
  { name: 'id', mode: MODE_RO, ops: { constant: (node) => `${eventOfNode(node).desc.id}\n` } },
  {
    name: 'hist',
    mode: MODE_RO,
    when: switchable,
    ops: {
      show: (file) => {
        const ev = eventOf(file);
        return readHist(ev.inst.index, ev.desc.id);
      },
    },
  },
  {
    name: 'inject',
    mode: MODE_WO,
    when: switchable,
    ops: {
      write(file, data) {
        const ev = eventOf(file);
        const r = parseInject(ev.desc, writtenText(data));
        if (!r.ok) checkErrno(r.errno);
        // Emitted from this thread as the application would, into the instance that owns the file only.
        else injectEvent(ev.inst.index, ev.desc.id, r.inject.values);
        return undefined;
      },
    },
  },
]);

// ---- building and pruning -------------------------------------------------------------------------------------

/** Creates `events/` under the instance directory. */
export function createEventsDir(tree: Kernfs, inst: TraceInstance): void {
  inst.eventsDir = tree.createTemplateDir(inst.dir, 'events', EVENTS_TABLE, new EventsDirData(inst), {
    mode: MODE_EVENTFS_DIR,
  });
}

/** Adds the directory of one event (and its system's, the first time) to an instance. */
export function addEvent(tree: Kernfs, inst: TraceInstance, desc: EventDescriptor): void {
  if (inst.events.has(desc.id)) return;
  let sys = inst.systems.get(desc.system);
  if (!sys) {
    sys = new SystemData(inst, desc.system);
    sys.dir = tree.createTemplateDir(inst.eventsDir, desc.system, SYSTEM_TABLE, sys, { mode: MODE_EVENTFS_DIR });
    inst.systems.set(desc.system, sys);
  }
  if (sys.events.has(desc.name)) return;
  const ev = new EventData(sys, desc);
  ev.dir = tree.createTemplateDir(sys.dir, desc.name, EVENT_TABLE, ev, { mode: MODE_EVENTFS_DIR });
  sys.events.set(desc.name, ev);
  inst.events.set(desc.id, ev);
}

/** Removes an event's directory (open files in it answer ENODEV); the system goes with its last event. */
export function removeEvent(tree: Kernfs, inst: TraceInstance, id: number): void {
  const ev = inst.events.get(id);
  if (!ev) return;
  inst.events.delete(id);
  // Its filter and triggers go with it.
  clearEventControl(inst.index, id);
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
