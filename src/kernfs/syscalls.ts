/**
 * The name-changing syscalls of the VFS face (mkdir, rmdir, rename, and the ones kernfs refuses: unlink, create,
 * mknod, symlink, link). kernfs checks in Linux's order — existence, then permission on the parent — and then hands
 * the work to the user's hooks; without a hook the answer is Linux kernfs's EPERM.
 */
import { fail } from './errors.js';
import type { InodeOps } from './inode-ops.js';
import type { InodeTable } from './inodes.js';
import { then } from './maybe-promise.js';
import { PERM_MASK, W_OK, X_OK } from './mode.js';
import { DirNode, SlottedNode } from './node.js';
import type { SyscallHooks } from './options.js';
import type { Permissions } from './permissions.js';
import { checkName } from './template.js';
import type { Entry, MaybePromise, OpContext, OpenResult } from './vfs.js';

export class DirSyscalls {
  constructor(
    private readonly hooks: SyscallHooks,
    private readonly inodes: InodeTable,
    private readonly inodeOps: InodeOps,
    private readonly permissions: Permissions,
  ) {}

  mkdir(parent: number, name: string, mode: number, ctx: OpContext): MaybePromise<Entry> {
    const dir = this.dirForChange(parent, name, ctx, false);
    const mkdir = this.hooks.mkdir;
    if (!mkdir) fail('EPERM');
    return then(mkdir.call(this.hooks, dir, name, mode & PERM_MASK, ctx), (node) => {
      if (!(node instanceof DirNode)) fail('EIO', 'mkdir hook returned no directory');
      return this.inodeOps.ref(node);
    });
  }

  rmdir(parent: number, name: string, ctx: OpContext): MaybePromise<void> {
    const dir = this.dirForChange(parent, name, ctx, true);
    const node = this.inodeOps.findChild(dir, name);
    if (!(node instanceof DirNode)) fail('ENOTDIR');
    const rmdir = this.hooks.rmdir;
    if (!rmdir) fail('EPERM');
    return rmdir.call(this.hooks, node, ctx);
  }

  unlink(parent: number, name: string, ctx: OpContext): void {
    const dir = this.dirForChange(parent, name, ctx, true);
    if (this.inodeOps.findChild(dir, name) instanceof DirNode) fail('EISDIR');
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
    const to = this.inodeOps.dirOf(newParent);
    this.permissions.check(to, ctx.cred, W_OK | X_OK);
    checkName(newName);
    const node = this.inodeOps.findChild(from, name);
    const hook = this.hooks.rename;
    if (!hook || !(node instanceof SlottedNode)) fail('EPERM');
    return hook.call(this.hooks, node, to, newName, flags, ctx);
  }

  create(parent: number, name: string, ctx: OpContext): { entry: Entry; open: OpenResult } {
    this.dirForChange(parent, name, ctx, false);
    fail('EACCES'); // Linux: a directory without ->create refuses O_CREAT with EACCES
  }

  mknod(parent: number, name: string, mode: number, ctx: OpContext): Entry {
    this.dirForChange(parent, name, ctx, false);
    // Linux sends a regular-file mknod through ->create (EACCES when missing), other types through ->mknod (EPERM).
    const type = mode & 0o170000;
    fail(type === 0 || type === 0o100000 ? 'EACCES' : 'EPERM');
  }

  symlink(parent: number, name: string, ctx: OpContext): Entry {
    this.dirForChange(parent, name, ctx, false);
    fail('EPERM');
  }

  link(ino: number, newParent: number, newName: string, ctx: OpContext): Entry {
    const node = this.inodes.nodeOf(ino);
    if (node instanceof DirNode) fail('EPERM');
    this.dirForChange(newParent, newName, ctx, false);
    fail('EPERM');
  }

  /** Common checks of the name-changing syscalls, in Linux's order: existence, then permission on the parent. */
  private dirForChange(parent: number, name: string, ctx: OpContext, mustExist: boolean): DirNode {
    const dir = this.inodeOps.dirOf(parent);
    if (dir.removed) fail('ENOENT');
    if (name === '.' || name === '..') fail(mustExist ? 'EINVAL' : 'EEXIST');
    checkName(name);
    const exists = this.inodeOps.findChild(dir, name) !== undefined;
    if (mustExist && !exists) fail('ENOENT');
    if (!mustExist && exists) fail('EEXIST');
    this.permissions.check(dir, ctx.cred, W_OK | X_OK);
    return dir;
  }
}
