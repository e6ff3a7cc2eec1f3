/**
 * The nodes of a kernfs tree. Directories, files and symlinks that someone created are objects for as long as they
 * are in the tree. Files of a template directory are not: they are rows of a shared table, and a `TemplateFile`
 * object exists only while the kernel holds a lookup on it (or it is open).
 *
 * Fields are kept few and small on purpose: a tree holds thousands of template directories (see docs/KERNFS.md).
 */
import type { FileOps, TemplateTable } from './ops.js';

/** Bits in `KernfsNode.state`. */
export const REMOVED = 1;
export const BUSY = 2;

/**
 * Inode numbers: every directory, file or symlink object owns a slot; its inode number is `slot * SLOT_SPAN + 1`
 * and the files of a template directory are `slot * SLOT_SPAN + 2 + index`. So a template file's number needs no
 * state of its own, is stable across forget, and maps back to (directory, index). The root has slot 0, inode 1.
 */
export const SLOT_SPAN = 65536;
/** Largest template table: indexes 0..MAX_TABLE-1 fit in a slot's span. */
export const MAX_TABLE = SLOT_SPAN - 2;
/** Slots are < 2^37, so inode numbers stay below 2^53. */
export const MAX_SLOTS = 2 ** 37;

/**
 * Attributes set explicitly (chmod/chown/utimes), allocated on the first such change. An owner is valid only while
 * its epoch equals the tree's: a remount-style reset bumps the tree's epoch instead of visiting every node.
 * -1 / NaN mean "not set".
 */
export class NodeAttrs {
  /** Only used for template files (other nodes keep their mode in the node). */
  mode = -1;
  uid = -1;
  uidEpoch = 0;
  gid = -1;
  gidEpoch = 0;
  atimeMs = Number.NaN;
  mtimeMs = Number.NaN;
  ctimeMs = Number.NaN;
}

export abstract class KernfsNode {
  name: string;
  parent: DirNode | null;
  /** File-type bits | permission bits (for template files: the callback's mode; overrides live in the directory). */
  mode: number;
  /** REMOVED | BUSY. */
  state = 0;
  /** The user's private data. For a template directory, the `data` passed to its callbacks. */
  priv: unknown;

  constructor(name: string, parent: DirNode | null, mode: number, priv: unknown) {
    this.name = name;
    this.parent = parent;
    this.mode = mode;
    this.priv = priv;
  }

  abstract get ino(): number;
  abstract get generation(): number;

  /** Removed from the tree (directly or with an ancestor). */
  get removed(): boolean {
    return (this.state & REMOVED) !== 0;
  }
}

/** A node that owns an inode slot and sits in its parent's child map. */
export abstract class SlottedNode extends KernfsNode {
  slot: number;
  gen: number;
  /** Position among the parent's children (creation order); readdir cookies are built from it. */
  seq = 0;
  /** Explicit attributes, or null while everything follows the defaults. */
  attrs: NodeAttrs | null = null;

  constructor(name: string, parent: DirNode | null, mode: number, priv: unknown, slot: number, gen: number) {
    super(name, parent, mode, priv);
    this.slot = slot;
    this.gen = gen;
  }

  get ino(): number {
    return this.slot * SLOT_SPAN + 1;
  }

  get generation(): number {
    return this.gen;
  }
}

/** Children of a directory that has any: a name index in creation order (Map keeps insertion order). */
export class DirChildren {
  readonly byName = new Map<string, SlottedNode>();
  nextSeq = 0;
  subdirs = 0;
}

export class DirNode extends SlottedNode {
  children: DirChildren | null = null;
  /** The shared file table of a template directory, else null. */
  table: TemplateTable<unknown> | null = null;
  /** chmod/chown of template files, by table index; allocated on the first change, kept across forget. */
  tplAttrs: (NodeAttrs | undefined)[] | null = null;
}

export class FileNode extends SlottedNode {
  ops: FileOps;
  size: number;
  /** What `ops.constant` answered, once asked (see ./constant-content.ts). */
  constantBytes: Uint8Array | null = null;

  constructor(
    name: string,
    parent: DirNode,
    mode: number,
    priv: unknown,
    slot: number,
    gen: number,
    ops: FileOps,
    size: number,
  ) {
    super(name, parent, mode, priv, slot, gen);
    this.ops = ops;
    this.size = size;
  }
}

export class SymlinkNode extends SlottedNode {
  readonly target: string;

  constructor(name: string, parent: DirNode, mode: number, slot: number, gen: number, target: string) {
    super(name, parent, mode, undefined, slot, gen);
    this.target = target;
  }
}

/** A file of a template directory, materialised by lookup and dropped by the forget that ends the kernel's interest. */
export class TemplateFile extends KernfsNode {
  declare parent: DirNode;
  readonly index: number;
  readonly ops: FileOps;
  readonly size: number;
  /** What `ops.constant` answered, once asked (see ./constant-content.ts). */
  constantBytes: Uint8Array | null = null;
  /** The kernel's lookup count while this object stands for its inode in the inode table (see ./inodes.ts). */
  nlookup = 0;

  constructor(name: string, dir: DirNode, index: number, mode: number, priv: unknown, ops: FileOps, size: number) {
    super(name, dir, mode, priv);
    this.index = index;
    this.ops = ops;
    this.size = size;
  }

  get ino(): number {
    return templateIno(this.parent, this.index);
  }

  get generation(): number {
    return this.parent.gen;
  }

  override get removed(): boolean {
    return ((this.state | this.parent.state) & REMOVED) !== 0;
  }
}

export function templateIno(dir: DirNode, index: number): number {
  return dir.slot * SLOT_SPAN + 2 + index;
}

export type AnyFile = FileNode | TemplateFile;

/** Is `node` `ancestor` or somewhere under it? */
export function isAncestorOrSelf(ancestor: KernfsNode, node: KernfsNode): boolean {
  for (let n: KernfsNode | null = node; n !== null; n = n.parent) if (n === ancestor) return true;
  return false;
}
