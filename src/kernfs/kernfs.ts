/**
 * A kernfs tree: the tree-building API its user (tracefs) calls, and the VFS face (./vfs.ts) a transport serves.
 * See docs/KERNFS.md for the model and where it differs from Linux kernfs.
 */
import { ActiveRefs } from './active.js';
import { NodeAttributes } from './attributes.js';
import { DirListing } from './dir-listing.js';
import { fail } from './errors.js';
import { ensureAttrs, modeOf } from './explicit-attrs.js';
import { HandleNumbers } from './handles.js';
import { InodeOps } from './inode-ops.js';
import { InodeTable } from './inodes.js';
import { PERM_MASK, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from './mode.js';
import {
  BUSY,
  DirChildren,
  DirNode,
  FileNode,
  isAncestorOrSelf,
  type KernfsNode,
  MAX_SLOTS,
  REMOVED,
  type SlottedNode,
  SymlinkNode,
  TemplateFile,
} from './node.js';
import { ChangeNotifier } from './notify.js';
import { OpenFiles } from './open-files.js';
import type { FileOps, TemplateTable } from './ops.js';
import type { KernfsOptions, Owner } from './options.js';
import { Ownership } from './ownership.js';
import { Permissions } from './permissions.js';
import { PollWaiters } from './poll-waiters.js';
import { SlotAllocator } from './slots.js';
import { DirSyscalls } from './syscalls.js';
import { checkName, tableIndex } from './template.js';
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

export type { KernfsOptions, Owner, OwnershipPolicy, SyscallHooks } from './options.js';

export class Kernfs implements Vfs {
  readonly root: DirNode;
  private readonly slots: SlotAllocator;
  private readonly inodes: InodeTable;
  private readonly pollers = new PollWaiters();
  private readonly notifier: ChangeNotifier;
  private readonly ownership: Ownership;
  private readonly active = new ActiveRefs();
  private readonly inodeOps: InodeOps;
  private readonly files: OpenFiles;
  private readonly dirs: DirListing;
  private readonly syscalls: DirSyscalls;
  private readonly removals = new Map<KernfsNode, Promise<void>>();

  constructor(options: KernfsOptions = {}) {
    const now = options.now ?? Date.now;
    const cache = Object.freeze({
      entryValidMs: options.cache?.entryValidMs ?? 1000,
      attrValidMs: options.cache?.attrValidMs ?? 1000,
    });
    this.slots = new SlotAllocator(Math.min(options.slotLimit ?? MAX_SLOTS, MAX_SLOTS), () => this.liveSlots());
    this.root = new DirNode('', null, S_IFDIR | ((options.mode ?? 0o755) & PERM_MASK), undefined, 0, 1);
    this.inodes = new InodeTable(this.root);
    this.notifier = new ChangeNotifier(this.inodes, this.pollers);
    this.ownership = new Ownership(options.uid ?? 0, options.gid ?? 0, options.ownership, this);
    const permissions = new Permissions(this.ownership);
    const attrs = new NodeAttributes(this.ownership, now(), now);
    const handles = new HandleNumbers();
    this.inodeOps = new InodeOps(this.inodes, attrs, permissions, cache);
    this.files = new OpenFiles(this.inodes, permissions, this.active, this.pollers, handles);
    this.dirs = new DirListing(this.inodes, permissions, handles);
    this.syscalls = new DirSyscalls(options.hooks ?? {}, this.inodes, this.inodeOps, permissions);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Tree-building API

  /** A directory under `parent`. Throws FsError EEXIST / ENOENT (parent removed) / EINVAL (bad name). */
  createDir(parent: DirNode, name: string, options: { mode?: number; priv?: unknown } = {}): DirNode {
    this.checkNewChild(parent, name);
    const [slot, gen] = this.slots.allocate();
    const dir = new DirNode(name, parent, S_IFDIR | ((options.mode ?? 0o755) & PERM_MASK), options.priv, slot, gen);
    this.attach(parent, dir);
    return dir;
  }

  /** A regular file whose content and behaviour come from `ops`. */
  createFile(
    parent: DirNode,
    name: string,
    ops: FileOps,
    options: { mode?: number; priv?: unknown; size?: number } = {},
  ): FileNode {
    this.checkNewChild(parent, name);
    const [slot, gen] = this.slots.allocate();
    const mode = S_IFREG | ((options.mode ?? 0o644) & PERM_MASK);
    const file = new FileNode(name, parent, mode, options.priv, slot, gen, ops, options.size ?? 0);
    this.attach(parent, file);
    return file;
  }

  createSymlink(parent: DirNode, name: string, target: string, options: { mode?: number } = {}): SymlinkNode {
    this.checkNewChild(parent, name);
    if (typeof target !== 'string' || target === '' || target.includes('\0')) fail('EINVAL', 'invalid symlink target');
    const [slot, gen] = this.slots.allocate();
    const link = new SymlinkNode(name, parent, S_IFLNK | ((options.mode ?? 0o777) & PERM_MASK), slot, gen, target);
    this.attach(parent, link);
    return link;
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
    tableIndex(table as TemplateTable<unknown>);
    this.checkNewChild(parent, name);
    const [slot, gen] = this.slots.allocate();
    const dir = new DirNode(name, parent, S_IFDIR | ((options.mode ?? 0o755) & PERM_MASK), data, slot, gen);
    dir.table = table as TemplateTable<unknown>;
    this.attach(parent, dir);
    return dir;
  }

  /**
   * Remove `node` and everything under it. Synchronously: it leaves the tree (lookups miss it), every op on it or on
   * an open file in it starts failing with ENODEV (directory handles list with EINVAL), and open files' signals abort.
   * The Promise resolves once the ops already in flight have settled and `release` ran once for every open file.
   * Throws FsError EBUSY when the node or a descendant is marked busy, EINVAL for the root.
   */
  remove(node: SlottedNode): Promise<void> {
    if (node.removed) {
      // Already going or gone: wait for whichever removal (of it or an ancestor) is still draining.
      for (let n: KernfsNode | null = node; n !== null; n = n.parent) {
        const pending = this.removals.get(n);
        if (pending) return pending;
      }
      return Promise.resolve();
    }
    if (node === this.root || node.parent === null) fail('EINVAL', 'the root cannot be removed');
    if (this.busyWithin(node)) fail('EBUSY');

    const parent = node.parent;
    this.detach(parent, node);
    this.markRemoved(node);

    const ended = this.files.endWithin(node);
    const finish = (): void => {
      for (const file of ended) this.files.releaseOnce(file);
      this.removals.delete(node);
    };
    if (!this.active.within(node)) {
      finish();
      return Promise.resolve();
    }
    const promise = new Promise<void>((resolve) => {
      this.active.whenIdle(node, () => {
        finish();
        resolve();
      });
    });
    this.removals.set(node, promise);
    return promise;
  }

  /** A busy node (and its ancestors' removal) answers EBUSY to `remove`. */
  setBusy(node: SlottedNode, busy: boolean): void {
    node.state = busy ? node.state | BUSY : node.state & ~BUSY;
  }

  /** chmod from the tree's side (permission bits only). */
  setMode(node: SlottedNode, mode: number): void {
    node.mode = (node.mode & S_IFMT) | (mode & PERM_MASK);
    this.notify(node);
  }

  /** chown from the tree's side; an omitted id keeps following the ownership policy. */
  setOwner(node: SlottedNode, owner: { uid?: number; gid?: number }): void {
    this.ownership.setExplicit(ensureAttrs(node), owner.uid, owner.gid);
    this.notify(node);
  }

  /** The child `name` of `dir` that is an object (not a template file), if any. */
  child(dir: DirNode, name: string): SlottedNode | undefined {
    return dir.children?.byName.get(name);
  }

  /** Walk `a/b/c` from the root (or `from`) through object nodes; undefined if any step is missing. */
  resolve(path: string, from: DirNode = this.root): SlottedNode | undefined {
    let node: SlottedNode = from;
    for (const part of path.split('/')) {
      if (part === '' || part === '.') continue;
      if (!(node instanceof DirNode)) return undefined;
      const next: SlottedNode | undefined = part === '..' ? (node.parent ?? node) : node.children?.byName.get(part);
      if (!next) return undefined;
      node = next;
    }
    return node;
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

  mknod(parent: number, name: string, _mode: number, _rdev: number, ctx: OpContext): Entry {
    return this.syscalls.mknod(parent, name, ctx);
  }

  symlink(parent: number, name: string, _target: string, ctx: OpContext): Entry {
    return this.syscalls.symlink(parent, name, ctx);
  }

  link(ino: number, newParent: number, newName: string, ctx: OpContext): Entry {
    return this.syscalls.link(ino, newParent, newName, ctx);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Internals

  private checkNewChild(parent: DirNode, name: string): void {
    if (!(parent instanceof DirNode)) fail('ENOTDIR');
    if (parent.removed) fail('ENOENT');
    checkName(name);
    if (parent.table && tableIndex(parent.table).has(name)) fail('EEXIST');
    if (parent.children?.byName.has(name)) fail('EEXIST');
  }

  private attach(parent: DirNode, node: SlottedNode): void {
    parent.children ??= new DirChildren();
    const children = parent.children;
    node.seq = children.nextSeq++;
    children.byName.set(node.name, node);
    if (node instanceof DirNode) children.subdirs++;
    this.notifier.entryChanged(parent, node.name);
  }

  private detach(parent: DirNode, node: SlottedNode): void {
    const children = parent.children!;
    children.byName.delete(node.name);
    if (node instanceof DirNode) children.subdirs--;
    this.notifier.entryChanged(parent, node.name);
  }

  private markRemoved(node: SlottedNode): void {
    node.state |= REMOVED;
    if (node instanceof DirNode && node.children)
      for (const child of node.children.byName.values()) this.markRemoved(child);
  }

  private busyWithin(node: SlottedNode): boolean {
    if (node.state & BUSY) return true;
    if (node instanceof DirNode && node.children) {
      for (const child of node.children.byName.values()) if (this.busyWithin(child)) return true;
    }
    return false;
  }

  /** Every slot something may still refer to; asked by the slot allocator once per wrap. */
  private liveSlots(): Set<number> {
    const live = new Set<number>([0]);
    const visit = (node: SlottedNode): void => {
      live.add(node.slot);
      if (node instanceof DirNode && node.children) for (const child of node.children.byName.values()) visit(child);
    };
    visit(this.root);
    const add = (node: KernfsNode): void => {
      live.add(node instanceof TemplateFile ? node.parent.slot : (node as SlottedNode).slot);
    };
    for (const node of this.inodes.nodes()) add(node);
    for (const node of this.files.nodes()) add(node);
    for (const dir of this.dirs.nodes()) add(dir);
    for (const node of this.active.nodes()) add(node);
    return live;
  }

  /** Move/rename a node (what a `rename` hook does). Throws EEXIST if the name is taken, EINVAL for a loop. */
  move(node: SlottedNode, newParent: DirNode, newName: string): void {
    if (node.removed || node.parent === null) fail('ENOENT');
    if (node instanceof DirNode && isAncestorOrSelf(node, newParent)) fail('EINVAL');
    if (node.parent === newParent && node.name === newName) return;
    this.checkNewChild(newParent, newName);
    this.detach(node.parent, node);
    node.name = newName;
    node.parent = newParent;
    this.attach(newParent, node);
  }
}

/** A new, empty tree (just the root). */
export function createKernfs(options?: KernfsOptions): Kernfs {
  return new Kernfs(options);
}
