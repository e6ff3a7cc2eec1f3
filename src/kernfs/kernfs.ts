/**
 * A kernfs tree: the tree-building API its user (tracefs) calls, and the VFS face (./vfs.ts) a transport serves.
 * This class is the table of contents: it wires the parts together and each method hands over to the part that owns
 * the idea (see the file map in docs/KERNFS.md for the model and where it differs from Linux kernfs).
 */
import { ActiveRefs } from './active.js';
import { NodeAttributes } from './attributes.js';
import { DirListing } from './dir-listing.js';
import { modeOf } from './explicit-attrs.js';
import { HandleNumbers } from './handles.js';
import { InodeOps } from './inode-ops.js';
import { InodeTable } from './inodes.js';
import { PERM_MASK, S_IFDIR } from './mode.js';
import {
  DirNode,
  type FileNode,
  type KernfsNode,
  MAX_SLOTS,
  type SlottedNode,
  type SymlinkNode,
  TemplateFile,
} from './node.js';
import { ChangeNotifier } from './notify.js';
import { OpenFiles } from './open-files.js';
import type { FileOps, TemplateTable } from './ops.js';
import type { KernfsOptions, Owner } from './options.js';
import { Ownership } from './ownership.js';
import { Permissions } from './permissions.js';
import { PollWaiters } from './poll-waiters.js';
import { Removal } from './removal.js';
import { SlotAllocator } from './slots.js';
import { DirSyscalls } from './syscalls.js';
import { Tree } from './tree.js';
import type {
  AttrChanges,
  Attributes,
  DirFiller,
  Entry,
  MaybePromise,
  OpContext,
  OpenResult,
  StatFs,
  Vfs,
  VfsChange,
} from './vfs.js';

export type { KernfsOptions, Owner, Owners, OwnershipPolicy, SyscallHooks } from './options.js';

export class Kernfs implements Vfs {
  readonly root: DirNode;
  private readonly inodes: InodeTable;
  private readonly pollers = new PollWaiters();
  private readonly notifier: ChangeNotifier;
  private readonly ownership: Ownership;
  private readonly active = new ActiveRefs();
  private readonly tree: Tree;
  private readonly removal: Removal;
  private readonly inodeOps: InodeOps;
  private readonly files: OpenFiles;
  private readonly dirs: DirListing;
  private readonly syscalls: DirSyscalls;

  constructor(options: KernfsOptions = {}) {
    const now = options.now ?? Date.now;
    const cache = Object.freeze({
      entryValidMs: options.cache?.entryValidMs ?? 1000,
      attrValidMs: options.cache?.attrValidMs ?? 1000,
    });
    const slots = new SlotAllocator(Math.min(options.slotLimit ?? MAX_SLOTS, MAX_SLOTS), () => this.liveSlots());
    this.root = new DirNode('', null, S_IFDIR | ((options.mode ?? 0o755) & PERM_MASK), undefined, 0, 1);
    this.inodes = new InodeTable(this.root);
    this.notifier = new ChangeNotifier(this.inodes, this.pollers);
    this.ownership = new Ownership(options.uid ?? 0, options.gid ?? 0, options.ownership);
    const permissions = new Permissions(this.ownership);
    const attrs = new NodeAttributes(this.ownership, now(), now);
    const handles = new HandleNumbers();
    this.tree = new Tree(this.root, slots, this.notifier, this.ownership);
    this.inodeOps = new InodeOps(this.inodes, attrs, permissions, cache);
    this.files = new OpenFiles(this.inodes, permissions, this.active, this.pollers, handles);
    this.dirs = new DirListing(this.inodes, permissions, handles);
    this.removal = new Removal(this.tree, this.files, this.active);
    this.syscalls = new DirSyscalls(options.hooks ?? {}, this.inodes, this.inodeOps, permissions);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Tree-building API (./tree.ts, ./removal.ts, ./notify.ts, ./ownership.ts)

  /** A directory under `parent`. Throws FsError EEXIST / ENOENT (parent removed) / EINVAL (bad name). */
  createDir(parent: DirNode, name: string, options: { mode?: number; priv?: unknown } = {}): DirNode {
    return this.tree.createDir(parent, name, options);
  }

  /** A regular file whose content and behaviour come from `ops`. */
  createFile(
    parent: DirNode,
    name: string,
    ops: FileOps,
    options: { mode?: number; priv?: unknown; size?: number } = {},
  ): FileNode {
    return this.tree.createFile(parent, name, ops, options);
  }

  createSymlink(parent: DirNode, name: string, target: string, options: { mode?: number } = {}): SymlinkNode {
    return this.tree.createSymlink(parent, name, target, options);
  }

  /**
   * A directory whose files are the rows of `table` (frozen, shared by every directory of the kind): no object exists
   * per file until the kernel looks one up. `data` is what the callbacks receive (and the directory's `priv`).
   * The directory may also hold child directories (and files) created under it as usual.
   */
  createTemplateDir<D>(
    parent: DirNode,
    name: string,
    table: TemplateTable<D>,
    data: D,
    options: { mode?: number } = {},
  ): DirNode {
    return this.tree.createTemplateDir(parent, name, table, data, options);
  }

  /**
   * Remove `node` and everything under it. Synchronously: it leaves the tree (lookups miss it), every op on it or on
   * an open file in it starts failing with ENODEV (directory handles list with EINVAL), and open files' signals abort.
   * The Promise resolves once the ops already in flight have settled and `release` ran once for every open file.
   * Throws FsError EBUSY when the node or a descendant is marked busy, EINVAL for the root.
   */
  remove(node: SlottedNode): Promise<void> {
    return this.removal.remove(node);
  }

  /** A busy node (and its ancestors' removal) answers EBUSY to `remove`. */
  setBusy(node: SlottedNode, busy: boolean): void {
    this.removal.setBusy(node, busy);
  }

  /** chmod from the tree's side (permission bits only). */
  setMode(node: SlottedNode, mode: number): void {
    this.tree.setMode(node, mode);
  }

  /** chown from the tree's side; an omitted id keeps following the ownership policy. */
  setOwner(node: SlottedNode, owner: { uid?: number; gid?: number }): void {
    this.tree.setOwner(node, owner);
  }

  /** The child `name` of `dir` that is an object (not a template file), if any. */
  child(dir: DirNode, name: string): SlottedNode | undefined {
    return this.tree.child(dir, name);
  }

  /** Walk `a/b/c` from the root (or `from`) through object nodes; undefined if any step is missing. */
  resolve(path: string, from: DirNode = this.root): SlottedNode | undefined {
    return this.tree.resolve(path, from);
  }

  /** Move/rename a node (what a `rename` hook does). Throws EEXIST if the name is taken, EINVAL for a loop. */
  move(node: SlottedNode, newParent: DirNode, newName: string): void {
    this.tree.move(node, newParent, newName);
  }

  /**
   * Content or attributes of `node` changed (or, for a directory, its listing): tells the transport if the kernel
   * knows the inode, and wakes pollers of its open files.
   */
  notify(node: KernfsNode): void {
    this.notifier.inodeChanged(node.ino);
  }

  /** Same as notify() for the file `name` of a template directory (which has no object at rest). */
  notifyTemplateFile(dir: DirNode, name: string): void {
    this.notifier.templateFileChanged(dir, name);
  }

  /**
   * The name `name` in `dir` may have appeared or disappeared without a create/remove (a template callback now
   * answers differently): drops the kernel's cached entry and listing.
   */
  notifyEntry(dir: DirNode, name: string): void {
    this.notifier.entryChanged(dir, name);
  }

  /** Readiness of `node`'s open files may have changed: wake their pending polls. */
  wake(node: KernfsNode): void {
    this.pollers.wake(node.ino);
  }

  /** Remount-style ownership reset: new mount owner; every explicit uid and/or gid is forgotten (no walk). */
  resetOwnership(owner: { uid?: number; gid?: number }): void {
    this.ownership.reset(owner);
    this.notifier.everyInodeChanged();
  }

  /** The owner given by the mount options (or the last reset). */
  get mountOwner(): Owner {
    return this.ownership.mountOwner;
  }

  /** Effective owner of a node: explicit (and not reset) ids, else the ownership policy's. */
  ownerOf(node: KernfsNode): Owner {
    return this.ownership.ownerOf(node);
  }

  /** Effective mode (type | permission bits). */
  modeOf(node: KernfsNode): number {
    return modeOf(node);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // VFS face: inodes (./inode-ops.ts)

  lookup(parent: number, name: string, ctx: OpContext): Entry {
    return this.inodeOps.lookup(parent, name, ctx);
  }

  forget(ino: number, nlookup: number): void {
    this.inodeOps.forget(ino, nlookup);
  }

  getattr(ino: number, _ctx: OpContext): Attributes {
    return this.inodeOps.getattr(ino);
  }

  setattr(ino: number, changes: AttrChanges, ctx: OpContext, fh?: number): Attributes {
    return this.inodeOps.setattr(ino, changes, ctx, fh);
  }

  access(ino: number, mask: number, ctx: OpContext): void {
    this.inodeOps.access(ino, mask, ctx);
  }

  readlink(ino: number, _ctx: OpContext): string {
    return this.inodeOps.readlink(ino);
  }

  statfs(ino: number, _ctx: OpContext): StatFs {
    return this.inodeOps.statfs(ino);
  }

  liveInodes(): number {
    return this.inodes.size;
  }

  onChange(listener: (change: VfsChange) => void): () => void {
    return this.notifier.onChange(listener);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // VFS face: open files (./open-files.ts)

  open(ino: number, flags: number, ctx: OpContext): MaybePromise<OpenResult> {
    return this.files.open(ino, flags, ctx);
  }

  read(fh: number, offset: number, size: number, ctx: OpContext): MaybePromise<Uint8Array> {
    return this.files.read(fh, offset, size, ctx);
  }

  write(fh: number, offset: number, data: Uint8Array, ctx: OpContext): MaybePromise<number> {
    return this.files.write(fh, offset, data, ctx);
  }

  flush(fh: number, _ctx: OpContext): void {
    this.files.flush(fh);
  }

  release(fh: number): void {
    this.files.release(fh);
  }

  poll(fh: number, wake: (() => void) | undefined, ctx: OpContext): number {
    return this.files.poll(fh, wake, ctx);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // VFS face: directory listing (./dir-listing.ts)

  opendir(ino: number, ctx: OpContext): number {
    return this.dirs.opendir(ino, ctx);
  }

  readdir(dh: number, cookie: number, fill: DirFiller, _ctx: OpContext): void {
    this.dirs.readdir(dh, cookie, fill);
  }

  releasedir(dh: number): void {
    this.dirs.releasedir(dh);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // VFS face: name-changing syscalls (./syscalls.ts)

  mkdir(parent: number, name: string, mode: number, ctx: OpContext): MaybePromise<Entry> {
    return this.syscalls.mkdir(parent, name, mode, ctx);
  }

  rmdir(parent: number, name: string, ctx: OpContext): MaybePromise<void> {
    return this.syscalls.rmdir(parent, name, ctx);
  }

  unlink(parent: number, name: string, ctx: OpContext): void {
    this.syscalls.unlink(parent, name, ctx);
  }

  rename(
    parent: number,
    name: string,
    newParent: number,
    newName: string,
    flags: number,
    ctx: OpContext,
  ): MaybePromise<void> {
    return this.syscalls.rename(parent, name, newParent, newName, flags, ctx);
  }

  create(
    parent: number,
    name: string,
    _mode: number,
    _flags: number,
    ctx: OpContext,
  ): { entry: Entry; open: OpenResult } {
    return this.syscalls.create(parent, name, ctx);
  }

  mknod(parent: number, name: string, mode: number, _rdev: number, ctx: OpContext): Entry {
    return this.syscalls.mknod(parent, name, mode, ctx);
  }

  symlink(parent: number, name: string, _target: string, ctx: OpContext): Entry {
    return this.syscalls.symlink(parent, name, ctx);
  }

  link(ino: number, newParent: number, newName: string, ctx: OpContext): Entry {
    return this.syscalls.link(ino, newParent, newName, ctx);
  }

  // ---------------------------------------------------------------------------------------------------------------

  /**
   * Every slot something may still refer to: the tree, held inodes, open files and directory handles, nodes with ops
   * in flight. Asked by the slot allocator once per wrap instead of keeping an "in use" mark on every node.
   */
  private liveSlots(): Set<number> {
    const live = new Set<number>([0]);
    this.tree.addSlots(live);
    const add = (node: KernfsNode): void => {
      live.add(node instanceof TemplateFile ? node.parent.slot : (node as SlottedNode).slot);
    };
    for (const node of this.inodes.nodes()) add(node);
    for (const node of this.files.nodes()) add(node);
    for (const dir of this.dirs.nodes()) add(dir);
    for (const node of this.active.nodes()) add(node);
    return live;
  }
}

/** A new, empty tree (just the root). */
export function createKernfs(options?: KernfsOptions): Kernfs {
  return new Kernfs(options);
}
