/**
 * The VFS face's operations on inodes: lookup and forget (the kernel's counted references, see ./inodes.ts),
 * getattr/setattr/access/readlink/statfs. Lookup in a template directory asks the row's callback and materialises a
 * transient TemplateFile only when the kernel does not hold one already.
 */
import type { NodeAttributes } from './attributes.js';
import { fail } from './errors.js';
import type { InodeTable } from './inodes.js';
import { PERM_MASK, S_IFREG, W_OK, X_OK } from './mode.js';
import { DirNode, type KernfsNode, SymlinkNode, TemplateFile, templateIno } from './node.js';
import type { Permissions } from './permissions.js';
import { tableIndex } from './template.js';
import type { AttrChanges, Attributes, CacheHints, Entry, OpContext, StatFs } from './vfs.js';

const encoder = new TextEncoder();

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

export class InodeOps {
  constructor(
    private readonly inodes: InodeTable,
    private readonly attrs: NodeAttributes,
    private readonly permissions: Permissions,
    private readonly cache: CacheHints,
  ) {}

  lookup(parent: number, name: string, ctx: OpContext): Entry {
    const dir = this.dirOf(parent);
    this.permissions.check(dir, ctx.cred, X_OK);
    if (dir.removed) fail('ENOENT');
    if (name.length > 255 && encoder.encode(name).length > 255) fail('ENAMETOOLONG');
    const node = name === '.' ? dir : name === '..' ? (dir.parent ?? dir) : this.findChild(dir, name);
    if (!node) fail('ENOENT');
    return this.ref(node);
  }

  forget(ino: number, nlookup: number): void {
    this.inodes.forget(ino, nlookup);
  }

  getattr(ino: number): Attributes {
    return this.attrs.of(this.inodes.nodeOf(ino));
  }

  setattr(ino: number, changes: AttrChanges, ctx: OpContext, fh?: number): Attributes {
    const node = this.inodes.nodeOf(ino);
    const cred = ctx.cred;
    // Validate everything before changing anything (setattr is all or nothing).
    this.permissions.checkSetattr(node, changes, cred);
    if (changes.size !== undefined) {
      if (node instanceof DirNode) fail('EISDIR');
      if (node instanceof SymlinkNode) fail('EINVAL');
      if (fh === undefined) this.permissions.check(node, cred, W_OK);
      // Generated files have no stored content: truncation (O_TRUNC from a shell) is accepted and changes nothing.
    }
    this.attrs.apply(node, changes);
    return this.attrs.of(node);
  }

  access(ino: number, mask: number, ctx: OpContext): void {
    this.permissions.check(this.inodes.nodeOf(ino), ctx.cred, mask);
  }

  readlink(ino: number): string {
    const node = this.inodes.nodeOf(ino);
    if (!(node instanceof SymlinkNode)) fail('EINVAL');
    return node.target;
  }

  statfs(ino: number): StatFs {
    this.inodes.nodeOf(ino);
    return STATFS;
  }

  /** The held directory `ino`: ESTALE if not held, ENOTDIR if not a directory. */
  dirOf(ino: number): DirNode {
    const node = this.inodes.nodeOf(ino);
    if (!(node instanceof DirNode)) fail('ENOTDIR');
    return node;
  }

  /**
   * A visible child of `dir`: a table row the callback accepts (the held TemplateFile, or a new transient one), or an
   * object child.
   */
  findChild(dir: DirNode, name: string): KernfsNode | undefined {
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

  /** Count a kernel reference to `node` and answer its entry (lookup, mkdir). */
  ref(node: KernfsNode): Entry {
    const held = this.inodes.ref(node);
    return { ino: node.ino, generation: node.generation, attr: this.attrs.of(held), cache: this.cache };
  }
}
