/**
 * The inodes the kernel holds: one entry per node it has looked up, with the lookup count, created by lookup/mkdir
 * and deleted by the forget that brings the count to zero. Nothing else keeps a per-node VFS object, so a tree at
 * rest costs nothing here. The root's entry is permanent.
 */

import { fail } from './errors.js';
import { InoMap } from './ino-map.js';
import { type DirNode, type KernfsNode, TemplateFile } from './node.js';
import { ROOT_INO } from './vfs.js';

/** A counted kernel reference ("inode") to a node; exists only while the lookup count is positive. */
class Inode {
  nlookup = 0;
  constructor(readonly node: KernfsNode) {}
}

/**
 * A template file is its own record: it exists only while the kernel holds it (or it is open), so it carries the
 * count itself and a cold lookup of one allocates a single object, not two.
 */
type InodeRecord = Inode | TemplateFile;

function nodeOfRecord(r: InodeRecord): KernfsNode {
  return r instanceof TemplateFile ? r : r.node;
}

export class InodeTable {
  /** Not a Map: its size swings with the kernel's caches (see ./ino-map.ts). */
  private readonly byIno = new InoMap<InodeRecord>();

  constructor(root: DirNode) {
    const rootInode = new Inode(root);
    rootInode.nlookup = 1;
    this.byIno.set(ROOT_INO, rootInode);
  }

  /** The node behind a held inode; ESTALE when the kernel holds no such inode. */
  nodeOf(ino: number): KernfsNode {
    const inode = this.byIno.get(ino);
    if (!inode) fail('ESTALE');
    return nodeOfRecord(inode);
  }

  /** The node behind a held inode, if the kernel holds it. */
  find(ino: number): KernfsNode | undefined {
    const inode = this.byIno.get(ino);
    return inode ? nodeOfRecord(inode) : undefined;
  }

  /** Does the kernel hold this inode (so it wants to hear about changes to it)? */
  held(ino: number): boolean {
    return this.byIno.has(ino);
  }

  /** One more kernel reference to `node`'s inode. Returns the node the inode stands for. */
  ref(node: KernfsNode): KernfsNode {
    const ino = node.ino;
    let inode = this.byIno.get(ino);
    if (!inode) {
      if (node instanceof TemplateFile) {
        node.nlookup = 0; // a file that was held before (and still open) starts counting afresh
        inode = node;
      } else inode = new Inode(node);
      this.byIno.set(ino, inode);
    }
    inode.nlookup++;
    return nodeOfRecord(inode);
  }

  forget(ino: number, nlookup: number): void {
    const inode = this.byIno.get(ino);
    if (!inode || ino === ROOT_INO) return;
    inode.nlookup -= nlookup;
    if (!(inode.nlookup > 0)) this.byIno.delete(ino);
  }

  get size(): number {
    return this.byIno.size;
  }

  inos(): number[] {
    return this.byIno.keyList();
  }

  nodes(): KernfsNode[] {
    return this.byIno.valueList().map(nodeOfRecord);
  }
}
