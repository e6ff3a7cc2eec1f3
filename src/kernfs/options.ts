/** What a tree is created with: mount-style owner and mode, the user's syscall hooks and ownership policy. */
import type { DirNode, KernfsNode, SlottedNode } from './node.js';
import type { CacheHints, MaybePromise, OpContext } from './vfs.js';

export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

/**
 * Directory-changing syscalls, per tree. Each is called after kernfs's own checks (existence, permission on the
 * parent) and does the work through the tree-building API. Absent hooks answer EPERM, as Linux kernfs does.
 */
export interface SyscallHooks {
  /** Create `name` in `parent` (e.g. with `tree.createDir`) and return it. */
  mkdir?(parent: DirNode, name: string, mode: number, ctx: OpContext): MaybePromise<DirNode>;
  /** Remove `node` (e.g. with `tree.remove`, which answers EBUSY for a busy node). */
  rmdir?(node: DirNode, ctx: OpContext): MaybePromise<void>;
  /** Move `node` (e.g. with `tree.move`). `flags` are renameat2's. */
  rename?(node: SlottedNode, newParent: DirNode, newName: string, flags: number, ctx: OpContext): MaybePromise<void>;
}

/** What an ownership policy may ask of the tree: another node's effective owner, and the mount's. */
export interface Owners {
  readonly mountOwner: Owner;
  ownerOf(node: KernfsNode): Owner;
}

/**
 * The owner of a node on which no uid/gid was set explicitly (or whose explicit one was reset). Called for non-root
 * nodes only, when someone asks (stat, permission check): nothing is stored per node. Default: the parent's owner.
 */
export type OwnershipPolicy = (node: KernfsNode, owners: Owners) => Owner;

export interface KernfsOptions {
  /** Owner and permission bits of the root, like tracefs's uid=/gid=/mode= mount options. Default 0:0 0755. */
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
  readonly hooks?: SyscallHooks;
  readonly ownership?: OwnershipPolicy;
  /** How long the kernel may cache entries and attributes. Default 1 s each (changes are notified anyway). */
  readonly cache?: Partial<CacheHints>;
  /** Clock for timestamps, ms since the epoch. Default Date.now. */
  readonly now?: () => number;
  /** Number of inode slots before the allocator wraps (tests use a small one). Default 2^37. */
  readonly slotLimit?: number;
}
