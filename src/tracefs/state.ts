/**
 * What the filesystem thread keeps per trace instance, system and event, beside the engine's shared memory: the
 * kernfs directories, the open files that count as "busy" for rmdir, the error log and the text of the control
 * files (filters, triggers) until the control languages publish their own state.
 */
import type { DirNode, OpenedFile } from '../kernfs/index.js';
import type { EventDescriptor } from '../trace/index.js';
import { ErrorLog } from '../trace/index.js';

/** A trace instance as the filesystem sees it: the top level (index 0, the mount root) or `instances/NAME`. */
export class TraceInstance {
  /** Engine instance index. */
  readonly index: number;
  /** '' for the top level. */
  readonly name: string;
  /** The mount root, or `instances/NAME`. */
  dir!: DirNode;
  eventsDir!: DirNode;
  perCpuDir!: DirNode;
  readonly systems = new Map<string, SystemData>();
  /** Event dirs by engine id. */
  readonly events = new Map<number, EventData>();
  readonly errorLog: ErrorLog;
  /** Open files that make rmdir answer EBUSY (the kernel's trace_array references). */
  busy = 0;
  removed = false;
  /** Consumers of trace_pipe waiting for data or polling: served at every doorbell wake-up. */
  readonly waiters = new Set<PipeWaiter>();
  /** per_cpu/cpuN directories made so far. */
  cpuDirs = 0;

  constructor(index: number, name: string, clock: () => bigint) {
    this.index = index;
    this.name = name;
    this.errorLog = new ErrorLog(clock);
  }

  get isTop(): boolean {
    return this.index === 0;
  }
}

/** `events/` of an instance: the data of the events template directory. */
export class EventsDirData {
  constructor(readonly inst: TraceInstance) {}
}

/** `events/SYSTEM/`. */
export class SystemData {
  dir!: DirNode;
  readonly events = new Map<string, EventData>();
  /** What the system `filter` file shows when it holds an error (undefined: the default text). */
  filterText: string | undefined;
  constructor(
    readonly inst: TraceInstance,
    readonly name: string,
  ) {}
}

/** `events/SYSTEM/EVENT/`: one small object per event directory; its files are rows of a shared table. */
export class EventData {
  dir!: DirNode;
  constructor(
    readonly system: SystemData,
    readonly desc: EventDescriptor,
  ) {}
  get inst(): TraceInstance {
    return this.system.inst;
  }
}

/** `per_cpu/cpuN/`. */
export class CpuDirData {
  constructor(
    readonly inst: TraceInstance,
    readonly cpu: number,
  ) {}
}

/**
 * The instance a file belongs to: root files carry it as their own data; files of a template directory (an instance,
 * per_cpu/cpuN, events/…) reach it through their directory's data.
 */
export function instanceOf(file: OpenedFile): TraceInstance {
  const data = file.node.priv ?? file.node.parent!.priv;
  return data instanceof TraceInstance ? data : (data as { readonly inst: TraceInstance }).inst;
}

/** A parked trace_pipe read or a poll waiting for data: `check` runs at every wake-up and says when it is done. */
export interface PipeWaiter {
  readonly file: OpenedFile;
  /** Returns true when the waiter is satisfied (and should be dropped). */
  check(): boolean;
}

/** Events the kernel creates without enable/filter/trigger files (ftrace's own): recording them is not switchable. */
export function isFtraceInternal(desc: EventDescriptor): boolean {
  return desc.system === 'ftrace';
}
