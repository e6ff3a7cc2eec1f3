/**
 * Building the tree: creating object nodes (directories, files, symlinks, template directories) with checked names
 * and fresh inode slots, attaching and detaching them in their parent's child map, moving them, finding them by name
 * or path, and the tree-side chmod/chown. Every change to a directory's entries is notified.
 */

import { fail } from './errors.js';
import { PERM_MASK, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from './mode.js';
import { DirChildren, DirNode, FileNode, isAncestorOrSelf, NodeAttrs, type SlottedNode, SymlinkNode } from './node.js';
import type { ChangeNotifier } from './notify.js';
import type { FileOps, TemplateTable } from './ops.js';
import type { Ownership } from './ownership.js';
import type { SlotAllocator } from './slots.js';
import { checkName, tableIndex } from './template.js';

export class Tree {
  constructor(
    readonly root: DirNode,
    private readonly slots: SlotAllocator,
    private readonly notifier: ChangeNotifier,
    private readonly ownership: Ownership,
  ) {}

  createDir(parent: DirNode, name: string, options: { mode?: number; priv?: unknown }): DirNode {
    this.checkNewChild(parent, name);
    const [slot, gen] = this.slots.allocate();
    const dir = new DirNode(name, parent, S_IFDIR | ((options.mode ?? 0o755) & PERM_MASK), options.priv, slot, gen);
    this.attach(parent, dir);
    return dir;
  }

  createFile(
    parent: DirNode,
    name: string,
    ops: FileOps,
    options: { mode?: number; priv?: unknown; size?: number },
  ): FileNode {
    this.checkNewChild(parent, name);
    const [slot, gen] = this.slots.allocate();
    const mode = S_IFREG | ((options.mode ?? 0o644) & PERM_MASK);
    const file = new FileNode(name, parent, mode, options.priv, slot, gen, ops, options.size ?? 0);
    this.attach(parent, file);
    return file;
  }

  createSymlink(parent: DirNode, name: string, target: string, options: { mode?: number }): SymlinkNode {
    this.checkNewChild(parent, name);
    if (typeof target !== 'string' || target === '' || target.includes('\0')) fail('EINVAL', 'invalid symlink target');
    const [slot, gen] = this.slots.allocate();
    const link = new SymlinkNode(name, parent, S_IFLNK | ((options.mode ?? 0o777) & PERM_MASK), slot, gen, target);
    this.attach(parent, link);
    return link;
  }

  createTemplateDir<D>(
    parent: DirNode,
    name: string,
    table: TemplateTable<D>,
    data: D,
    options: { mode?: number },
  ): DirNode {
    // Validates the table (and indexes it) before anything changes.
    tableIndex(table as TemplateTable<unknown>);
    this.checkNewChild(parent, name);
    const [slot, gen] = this.slots.allocate();
    const dir = new DirNode(name, parent, S_IFDIR | ((options.mode ?? 0o755) & PERM_MASK), data, slot, gen);
    dir.table = table as TemplateTable<unknown>;
    this.attach(parent, dir);
    return dir;
  }

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

  /** Take `node` out of `parent`'s children (removal and move). */
  detach(parent: DirNode, node: SlottedNode): void {
    const children = parent.children!;
    children.byName.delete(node.name);
    if (node instanceof DirNode) children.subdirs--;
    this.notifier.entryChanged(parent, node.name);
  }

  child(dir: DirNode, name: string): SlottedNode | undefined {
    return dir.children?.byName.get(name);
  }

  resolve(path: string, from: DirNode): SlottedNode | undefined {
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

  setMode(node: SlottedNode, mode: number): void {
    node.mode = (node.mode & S_IFMT) | (mode & PERM_MASK);
    this.notifier.inodeChanged(node.ino);
  }

  setOwner(node: SlottedNode, owner: { uid?: number; gid?: number }): void {
    node.attrs ??= new NodeAttrs();
    this.ownership.setExplicit(node.attrs, owner.uid, owner.gid);
    this.notifier.inodeChanged(node.ino);
  }

  /** Add the slot of every node in the tree to `live`. */
  addSlots(live: Set<number>): void {
    const visit = (node: SlottedNode): void => {
      live.add(node.slot);
      if (node instanceof DirNode && node.children) for (const child of node.children.byName.values()) visit(child);
    };
    visit(this.root);
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
}
