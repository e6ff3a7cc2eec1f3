/**
 * The tracefs tree of one mount, built on kernfs inside the FUSE serving thread: the top-level instance at the
 * root, `instances/` (mkdir/rmdir), eventfs under every instance, `per_cpu/` and `options/`. Everything it shows is
 * read from the engine's shared memory, so it answers while the application's threads are busy.
 */
import { DirNode, FsError, Kernfs, type KernfsNode, type Owner, type Owners } from '../kernfs/index.js';
import {
  armRegistryWakeup,
  cpuCount,
  createInstance,
  destroyInstance,
  dropInstance,
  InstanceError,
  instancesGeneration,
  listEvents,
  registryGeneration,
  TOP_INSTANCE,
} from '../trace/index.js';
import { configuredCpus } from './configured-cpus.js';
import { serviceWaiters } from './consuming-file.js';
import { addEvent, createEventsDir, removeEvent } from './eventfs.js';
import { INSTANCE_TABLE, OPTIONS_TABLE, PER_CPU_TABLE } from './instance-files.js';
import { MODE_DIR, MODE_ROOT_DEFAULT } from './modes.js';
import { CpuDirData, EventData, EventsDirData, SystemData, TraceInstance } from './state.js';

export interface TracefsOptions {
  /** Owner of the root (and, by default, of everything): tracefs's uid=/gid= mount options. Default 0. */
  readonly uid?: number;
  readonly gid?: number;
  /** Permission bits of the root directory (mode=). Default 0700, as the kernel's. */
  readonly mode?: number;
}

const CACHE_MS = 3600_000;

/** error_log timestamps: nanoseconds of CLOCK_MONOTONIC (the kernel uses local_clock(), whatever trace_clock says). */
const errorLogClock = (): bigint => process.hrtime.bigint();

/** The engine refuses names longer than this; longer (valid) directory names get a synthetic engine name. */
const ENGINE_NAME_MAX = 96;
const utf8 = new TextEncoder();

export class Tracefs {
  readonly tree: Kernfs;
  readonly top: TraceInstance;
  readonly instancesDir: DirNode;
  /** Instances made by mkdir, by directory. */
  readonly instances = new Map<DirNode, TraceInstance>();
  private registryGen = -1;
  private instancesGen = -1;
  private syntheticNames = 0;
  /** per_cpu/ always holds this many cpuN directories; emitting threads beyond them add more. */
  private readonly minCpuDirs = configuredCpus();

  constructor(options: TracefsOptions = {}) {
    this.tree = new Kernfs({
      uid: options.uid ?? 0,
      gid: options.gid ?? 0,
      mode: options.mode ?? MODE_ROOT_DEFAULT,
      hooks: {
        mkdir: (parent, name) => this.mkdirInstance(parent, name),
        rmdir: (node) => this.rmdirInstance(node),
      },
      ownership: (node, owners) => this.defaultOwner(node, owners),
      // Every change is notified (new/removed events, chmod/chown, followers of a chowned directory, remount), and
      // the FUSE layer turns notifications into invalidations: the kernel may cache as long as it likes.
      cache: { entryValidMs: CACHE_MS, attrValidMs: CACHE_MS },
    });
    this.top = new TraceInstance(TOP_INSTANCE, '', errorLogClock);
    this.top.dir = this.tree.root;
    const root = this.tree.root;
    for (const row of INSTANCE_TABLE) {
      const file = row.callback(row.name, this.top);
      if (file) this.tree.createFile(root, row.name, file.ops, { mode: file.mode, priv: this.top });
    }
    this.populate(this.top);
    this.instancesDir = this.tree.createDir(root, 'instances', { mode: MODE_DIR });
    this.refresh();
  }

  /** Directories every instance has besides its files: events/, options/, per_cpu/. */
  private populate(inst: TraceInstance): void {
    createEventsDir(this.tree, inst);
    this.tree.createTemplateDir(inst.dir, 'options', OPTIONS_TABLE, inst, { mode: MODE_DIR });
    inst.perCpuDir = this.tree.createDir(inst.dir, 'per_cpu', { mode: MODE_DIR });
    for (const desc of listEvents()) addEvent(this.tree, inst, desc);
    this.addCpuDirs(inst);
  }

  private addCpuDirs(inst: TraceInstance): void {
    const n = this.cpuDirCount();
    while (inst.cpuDirs < n) {
      const cpu = inst.cpuDirs++;
      this.tree.createTemplateDir(inst.perCpuDir, `cpu${cpu}`, PER_CPU_TABLE, new CpuDirData(inst, cpu), {
        mode: MODE_DIR,
      });
    }
  }

  /** The machine's configured CPUs, or more when more threads record (one "CPU" per emitting thread). */
  private cpuDirCount(): number {
    return Math.max(this.minCpuDirs, cpuCount());
  }

  private *allInstances(): Iterable<TraceInstance> {
    yield this.top;
    yield* this.instances.values();
  }

  /**
   * Brings the tree in step with the engine: event directories for events defined or removed since the last call
   * (in every instance), per_cpu directories for threads beyond the configured CPUs that started emitting. Cheap when nothing changed.
   */
  refresh(): void {
    const gen = registryGeneration();
    const instGen = instancesGeneration();
    // Instance creation and removal ring the same one-shot wake-up (our own mkdir too): re-arm after either.
    if (instGen !== this.instancesGen) {
      this.instancesGen = instGen;
      armRegistryWakeup();
    }
    if (gen !== this.registryGen) {
      armRegistryWakeup();
      this.registryGen = registryGeneration();
      const live = listEvents();
      const ids = new Set(live.map((e) => e.id));
      for (const inst of this.allInstances()) {
        for (const id of [...inst.events.keys()]) if (!ids.has(id)) removeEvent(this.tree, inst, id);
        for (const desc of live) addEvent(this.tree, inst, desc);
      }
    }
    if (this.cpuDirCount() !== this.top.cpuDirs) for (const inst of this.allInstances()) this.addCpuDirs(inst);
  }

  /** A doorbell wake-up: new events, data for parked trace_pipe readers and pollers. */
  onWake(): void {
    // The wake may have used up the one-shot registry wake-up without a change refresh() notices (a new CPU, a
    // change it already saw at a request): re-arm first, so the next event or CPU rings again.
    armRegistryWakeup();
    this.refresh();
    for (const inst of this.allInstances()) if (inst.waiters.size > 0) serviceWaiters(inst);
  }

  /** `mount -o remount,uid=,gid=`: every node's owner is reset to the new ids, explicit ones included. */
  reconfigure(changes: { uid?: number; gid?: number; mode?: number }): void {
    this.tree.resetOwnership({ uid: changes.uid, gid: changes.gid });
    if (changes.mode !== undefined) this.tree.setMode(this.tree.root, changes.mode);
  }

  /**
   * A chown of the root, of instances/ or of an instance directory changes the owner of every node that follows it
   * (nothing is stored per node): tell the kernel to drop what it cached for them.
   */
  ownerChanged(ino: number): boolean {
    let top: DirNode | undefined;
    if (ino === this.tree.root.ino) top = this.tree.root;
    else if (ino === this.instancesDir.ino) top = this.instancesDir;
    else for (const dir of this.instances.keys()) if (dir.ino === ino) top = dir;
    if (!top) return false;
    this.invalidateBelow(top);
    return true;
  }

  private invalidateBelow(dir: DirNode): void {
    const table = dir.table;
    if (table) for (const row of table) this.tree.notifyTemplateFile(dir, row.name);
    const children = dir.children;
    if (!children) return;
    for (const child of children.byName.values()) {
      this.tree.notify(child);
      if (child instanceof DirNode) this.invalidateBelow(child);
    }
  }

  // ---- instances ------------------------------------------------------------------------------------------------

  private mkdirInstance(parent: DirNode, name: string): DirNode {
    if (parent !== this.instancesDir) throw new FsError('EPERM');
    const engineName = utf8.encode(name).length <= ENGINE_NAME_MAX ? name : `~long-name-${++this.syntheticNames}`;
    let index: number;
    try {
      index = createInstance(engineName);
    } catch (err) {
      if (err instanceof InstanceError) throw new FsError(err.code, err.message);
      throw err;
    }
    const inst = new TraceInstance(index, name, errorLogClock);
    try {
      inst.dir = this.tree.createTemplateDir(parent, name, INSTANCE_TABLE, inst, { mode: MODE_DIR });
      this.populate(inst);
    } catch (err) {
      destroyInstance(index);
      throw err;
    }
    this.instances.set(inst.dir, inst);
    return inst.dir;
  }

  private rmdirInstance(node: DirNode): Promise<void> {
    if (node.parent !== this.instancesDir) throw new FsError('EPERM');
    const inst = this.instances.get(node);
    if (!inst) throw new FsError('ENOENT');
    if (inst.busy > 0) throw new FsError('EBUSY');
    const removal = this.tree.remove(node);
    this.instances.delete(node);
    inst.removed = true;
    for (const w of inst.waiters) w.file.wake();
    inst.waiters.clear();
    try {
      destroyInstance(inst.index);
    } catch {}
    dropInstance(inst.index);
    return removal;
  }

  /**
   * The mount is going away: its instances stop recording and their buffers are freed in the engine (they belong to
   * this tree; left behind they would keep costing emits). The tree itself goes with the serving thread.
   */
  releaseInstances(): void {
    for (const inst of this.instances.values()) {
      inst.removed = true;
      try {
        destroyInstance(inst.index);
      } catch {}
      dropInstance(inst.index);
    }
    this.instances.clear();
  }

  // ---- ownership ------------------------------------------------------------------------------------------------

  /**
   * The owner of a node nobody chowned: tracefs files and directories follow their instance's directory (the root
   * for the top level; an instance follows `instances/`), eventfs follows the mount options at the top level — not
   * the root's chown, as in the kernel — and the instance's directory inside an instance.
   */
  private defaultOwner(node: KernfsNode, owners: Owners): Owner {
    let eventfs = false;
    for (let n: KernfsNode = node; ; ) {
      const parent = n.parent;
      if (parent === null) return owners.mountOwner;
      if (isEventfsDir(n)) eventfs = true;
      if (parent.parent === null) return eventfs ? owners.mountOwner : owners.ownerOf(parent);
      if (parent === this.instancesDir) return owners.ownerOf(n === node ? parent : n);
      n = parent;
    }
  }
}

function isEventfsDir(n: KernfsNode): boolean {
  const p = n.priv;
  return p instanceof EventsDirData || p instanceof SystemData || p instanceof EventData;
}
