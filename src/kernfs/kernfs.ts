/**
 * A kernfs tree: the tree-building API its user (tracefs) calls, and the VFS face (./vfs.ts) a transport serves.
 * See docs/KERNFS.md for the model and where it differs from Linux kernfs.
 */
import { ActiveRefs } from './active.js';
import { fail } from './errors.js';
import { ensureAttrs, explicitAttrs, modeOf } from './explicit-attrs.js';
import { HandleNumbers } from './handles.js';
import { InodeTable } from './inodes.js';
import { then } from './maybe-promise.js';
import { PERM_MASK, R_OK, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, W_OK, X_OK } from './mode.js';
import {
  type AnyFile,
  BUSY,
  DirChildren,
  DirNode,
  FileNode,
  isAncestorOrSelf,
  type KernfsNode,
  MAX_SLOTS,
  REMOVED,
  SlottedNode,
  SymlinkNode,
  TemplateFile,
  templateIno,
} from './node.js';
import { ChangeNotifier } from './notify.js';
import { OpenFiles } from './open-files.js';
import type { FileOps, TemplateTable } from './ops.js';
import type { KernfsOptions, Owner, SyscallHooks } from './options.js';
import { Ownership } from './ownership.js';
import { Permissions } from './permissions.js';
import { PollWaiters } from './poll-waiters.js';
import { SlotAllocator } from './slots.js';
import { checkName, tableIndex } from './template.js';
import type {
  AttrChanges,
  Attributes,
  CacheHints,
  Credentials,
  DirFiller,
  Entry,
  MaybePromise,
  NodeKind,
  OpContext,
  OpenResult,
  StatFs,
  Vfs,
  VfsChange,
} from './vfs.js';

export type { KernfsOptions, Owner, OwnershipPolicy, SyscallHooks } from './options.js';

const encoder = new TextEncoder();

function kindOf(mode: number): NodeKind {
  const type = mode & S_IFMT;
  return type === S_IFDIR ? 'dir' : type === S_IFLNK ? 'symlink' : 'file';
}

export class Kernfs implements Vfs {
  readonly root: DirNode;
  private readonly hooks: SyscallHooks;
  private readonly cache: CacheHints;
  private readonly now: () => number;
  private readonly mountTimeMs: number;
  private readonly slots: SlotAllocator;
  private readonly inodes: InodeTable;
  private readonly pollers = new PollWaiters();
  private readonly notifier: ChangeNotifier;
  private readonly ownership: Ownership;
  private readonly permissions: Permissions;
  private readonly handles = new HandleNumbers();
  private readonly active = new ActiveRefs();
  private readonly files: OpenFiles;
  private readonly dirHandles = new Map<number, DirNode>();
  private readonly removals = new Map<KernfsNode, Promise<void>>();

  constructor(options: KernfsOptions = {}) {
    this.hooks = options.hooks ?? {};
    this.cache = Object.freeze({
      entryValidMs: options.cache?.entryValidMs ?? 1000,
      attrValidMs: options.cache?.attrValidMs ?? 1000,
    });
    this.now = options.now ?? Date.now;
    this.mountTimeMs = this.now();
    this.ownership = new Ownership(options.uid ?? 0, options.gid ?? 0, options.ownership, this);
    this.permissions = new Permissions(this.ownership);
    this.slots = new SlotAllocator(Math.min(options.slotLimit ?? MAX_SLOTS, MAX_SLOTS), () => this.liveSlots());
    this.root = new DirNode('', null, S_IFDIR | ((options.mode ?? 0o755) & PERM_MASK), undefined, 0, 1);
    this.inodes = new InodeTable(this.root);
    this.notifier = new ChangeNotifier(this.inodes, this.pollers);
    this.files = new OpenFiles(this.inodes, this.permissions, this.active, this.pollers, this.handles);
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
  // VFS face

  lookup(parent: number, name: string, ctx: OpContext): Entry {
    const dir = this.dirOf(parent);
    this.checkAccess(dir, ctx.cred, X_OK);
    if (dir.removed) fail('ENOENT');
    if (name.length > 255 && encoder.encode(name).length > 255) fail('ENAMETOOLONG');
    const node = name === '.' ? dir : name === '..' ? (dir.parent ?? dir) : this.findChild(dir, name);
    if (!node) fail('ENOENT');
    return this.ref(node);
  }

  forget(ino: number, nlookup: number): void {
    this.inodes.forget(ino, nlookup);
  }

  getattr(ino: number, _ctx: OpContext): Attributes {
    return this.attrOf(this.nodeOf(ino));
  }

  setattr(ino: number, changes: AttrChanges, ctx: OpContext, fh?: number): Attributes {
    const node = this.nodeOf(ino);
    const cred = ctx.cred;

    // Validate everything before changing anything (setattr is all or nothing).
    this.permissions.checkSetattr(node, changes, cred);
    if (changes.size !== undefined) {
      if (node instanceof DirNode) fail('EISDIR');
      if (node instanceof SymlinkNode) fail('EINVAL');
      if (fh === undefined) this.checkAccess(node, cred, W_OK);
      // Generated files have no stored content: truncation (O_TRUNC from a shell) is accepted and changes nothing.
    }

    // Any attribute change (not a mere truncate) records its ctime, so it allocates the node's explicit attributes.
    const touched =
      changes.mode !== undefined ||
      changes.uid !== undefined ||
      changes.gid !== undefined ||
      changes.atimeMs !== undefined ||
      changes.mtimeMs !== undefined;
    if (touched) {
      const now = this.now();
      const attrs = ensureAttrs(node);
      if (changes.mode !== undefined) {
        const perms = changes.mode & PERM_MASK;
        if (node instanceof TemplateFile) attrs.mode = perms;
        else node.mode = (node.mode & S_IFMT) | perms;
      }
      this.ownership.setExplicit(attrs, changes.uid, changes.gid);
      if (changes.atimeMs !== undefined) attrs.atimeMs = changes.atimeMs === 'now' ? now : changes.atimeMs;
      if (changes.mtimeMs !== undefined) attrs.mtimeMs = changes.mtimeMs === 'now' ? now : changes.mtimeMs;
      attrs.ctimeMs = now;
    }
    return this.attrOf(node);
  }

  access(ino: number, mask: number, ctx: OpContext): void {
    this.checkAccess(this.nodeOf(ino), ctx.cred, mask);
  }

  readlink(ino: number, _ctx: OpContext): string {
    const node = this.nodeOf(ino);
    if (!(node instanceof SymlinkNode)) fail('EINVAL');
    return node.target;
  }

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

  opendir(ino: number, ctx: OpContext): number {
    const node = this.nodeOf(ino);
    if (!(node instanceof DirNode)) fail('ENOTDIR');
    if (node.removed) fail('ENODEV');
    this.checkAccess(node, ctx.cred, R_OK);
    const dh = this.handles.take();
    this.dirHandles.set(dh, node);
    return dh;
  }

  /**
   * Positions: 0 `.`, 1 `..`, 2+i table row i, 2+T+seq the child with creation number `seq`. A cookie is the position
   * to resume at. Rows never move and children keep their `seq`, so a cookie stays meaningful while entries come and
   * go: removed ones are simply not there, new children come after every existing one.
   */
  readdir(dh: number, cookie: number, fill: DirFiller, _ctx: OpContext): void {
    const dir = this.dirHandles.get(dh);
    if (!dir) fail('EBADF');
    if (dir.removed) fail('EINVAL');
    if (!(cookie >= 0)) fail('EINVAL');
    let pos = cookie;
    if (pos === 0) {
      if (!fill({ name: '.', ino: dir.ino, kind: 'dir', next: 1 })) return;
      pos = 1;
    }
    if (pos === 1) {
      if (!fill({ name: '..', ino: (dir.parent ?? dir).ino, kind: 'dir', next: 2 })) return;
      pos = 2;
    }
    const table = dir.table;
    const rows = table ? table.length : 0;
    if (table) {
      for (let i = pos - 2; i < rows; i++) {
        const row = table[i];
        if (!row.callback(row.name, dir.priv)) continue;
        if (!fill({ name: row.name, ino: templateIno(dir, i), kind: 'file', next: 3 + i })) return;
      }
    }
    const children = dir.children;
    if (!children) return;
    const firstSeq = pos - 2 - rows;
    for (const child of children.byName.values()) {
      if (child.seq < firstSeq) continue;
      if (!fill({ name: child.name, ino: child.ino, kind: kindOf(child.mode), next: 3 + rows + child.seq })) return;
    }
  }

  releasedir(dh: number): void {
    this.dirHandles.delete(dh);
  }

  mkdir(parent: number, name: string, mode: number, ctx: OpContext): MaybePromise<Entry> {
    const dir = this.dirForChange(parent, name, ctx, false);
    const mkdir = this.hooks.mkdir;
    if (!mkdir) fail('EPERM');
    return then(mkdir.call(this.hooks, dir, name, mode & PERM_MASK, ctx), (node) => {
      if (!(node instanceof DirNode)) fail('EIO', 'mkdir hook returned no directory');
      return this.ref(node);
    });
  }

  rmdir(parent: number, name: string, ctx: OpContext): MaybePromise<void> {
    const dir = this.dirForChange(parent, name, ctx, true);
    const node = this.findChild(dir, name);
    if (!(node instanceof DirNode)) fail('ENOTDIR');
    const rmdir = this.hooks.rmdir;
    if (!rmdir) fail('EPERM');
    return rmdir.call(this.hooks, node, ctx);
  }

  unlink(parent: number, name: string, ctx: OpContext): void {
    const dir = this.dirForChange(parent, name, ctx, true);
    if (this.findChild(dir, name) instanceof DirNode) fail('EISDIR');
    fail('EPERM');
  }

  rename(
    parent: number,
    name: string,
    newParent: number,
    newName: string,
    flags: number,
    ctx: OpContext,
  ): MaybePromise<void> {
    const from = this.dirForChange(parent, name, ctx, true);
    const to = this.dirOf(newParent);
    this.checkAccess(to, ctx.cred, W_OK | X_OK);
    checkName(newName);
    const node = this.findChild(from, name);
    const hook = this.hooks.rename;
    if (!hook || !(node instanceof SlottedNode)) fail('EPERM');
    return hook.call(this.hooks, node, to, newName, flags, ctx);
  }

  create(
    parent: number,
    name: string,
    _mode: number,
    _flags: number,
    ctx: OpContext,
  ): { entry: Entry; open: OpenResult } {
    this.dirForChange(parent, name, ctx, false);
    fail('EACCES'); // Linux: a directory without ->create refuses O_CREAT with EACCES
  }

  mknod(parent: number, name: string, _mode: number, _rdev: number, ctx: OpContext): Entry {
    this.dirForChange(parent, name, ctx, false);
    fail('EPERM');
  }

  symlink(parent: number, name: string, _target: string, ctx: OpContext): Entry {
    this.dirForChange(parent, name, ctx, false);
    fail('EPERM');
  }

  link(ino: number, newParent: number, newName: string, ctx: OpContext): Entry {
    const node = this.nodeOf(ino);
    if (node instanceof DirNode) fail('EPERM');
    this.dirForChange(newParent, newName, ctx, false);
    fail('EPERM');
  }

  statfs(ino: number, _ctx: OpContext): StatFs {
    this.nodeOf(ino);
    return STATFS;
  }

  onChange(listener: (change: VfsChange) => void): () => void {
    return this.notifier.onChange(listener);
  }

  liveInodes(): number {
    return this.inodes.size;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Internals

  private nodeOf(ino: number): KernfsNode {
    return this.inodes.nodeOf(ino);
  }

  private dirOf(ino: number): DirNode {
    const node = this.nodeOf(ino);
    if (!(node instanceof DirNode)) fail('ENOTDIR');
    return node;
  }

  /** Common checks of the name-changing syscalls, in Linux's order: existence, then permission on the parent. */
  private dirForChange(parent: number, name: string, ctx: OpContext, mustExist: boolean): DirNode {
    const dir = this.dirOf(parent);
    if (dir.removed) fail('ENOENT');
    if (name === '.' || name === '..') fail(mustExist ? 'EINVAL' : 'EEXIST');
    checkName(name);
    const exists = this.findChild(dir, name) !== undefined;
    if (mustExist && !exists) fail('ENOENT');
    if (!mustExist && exists) fail('EEXIST');
    this.checkAccess(dir, ctx.cred, W_OK | X_OK);
    return dir;
  }

  private checkAccess(node: KernfsNode, cred: Credentials, mask: number): void {
    this.permissions.check(node, cred, mask);
  }

  /** A visible child of `dir`: a table row the callback accepts (materialised if the kernel doesn't hold it), or an object. */
  private findChild(dir: DirNode, name: string): KernfsNode | undefined {
    const table = dir.table;
    if (table) {
      const index = tableIndex(table).get(name);
      if (index !== undefined) {
        const row = table[index];
        const spec = row.callback(name, dir.priv);
        if (!spec) return undefined;
        const live = this.inodes.find(templateIno(dir, index));
        if (live) return live;
        const mode = S_IFREG | (spec.mode & PERM_MASK);
        return new TemplateFile(name, dir, index, mode, spec.priv, spec.ops, spec.size ?? 0);
      }
    }
    return dir.children?.byName.get(name);
  }

  private ref(node: KernfsNode): Entry {
    const held = this.inodes.ref(node);
    return { ino: node.ino, generation: node.generation, attr: this.attrOf(held), cache: this.cache };
  }

  private attrOf(node: KernfsNode): Attributes {
    const mode = modeOf(node);
    const owner = this.ownership.ownerOf(node);
    const a = explicitAttrs(node);
    const t = this.mountTimeMs;
    let size = 0;
    let nlink = 1;
    if (node instanceof DirNode) nlink = 2 + (node.children?.subdirs ?? 0);
    else if (node instanceof SymlinkNode) size = encoder.encode(node.target).length;
    else size = (node as AnyFile).size;
    return {
      ino: node.ino,
      kind: kindOf(mode),
      mode,
      nlink,
      uid: owner.uid,
      gid: owner.gid,
      size,
      atimeMs: a && !Number.isNaN(a.atimeMs) ? a.atimeMs : t,
      mtimeMs: a && !Number.isNaN(a.mtimeMs) ? a.mtimeMs : t,
      ctimeMs: a && !Number.isNaN(a.ctimeMs) ? a.ctimeMs : t,
    };
  }

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
    for (const dir of this.dirHandles.values()) add(dir);
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

const STATFS: StatFs = Object.freeze({
  blocks: 0,
  bfree: 0,
  bavail: 0,
  files: 0,
  ffree: 0,
  bsize: 4096,
  namelen: 255,
  frsize: 4096,
});

/** A new, empty tree (just the root). */
export function createKernfs(options?: KernfsOptions): Kernfs {
  return new Kernfs(options);
}
