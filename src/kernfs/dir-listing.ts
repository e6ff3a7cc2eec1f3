/**
 * Directory handles and listing (opendir/readdir/releasedir). Positions: 0 `.`, 1 `..`, 2+i table row i, 2+T+seq the
 * child with creation number `seq`; a cookie is the position to resume at. Rows never move and children keep their
 * `seq`, so a cookie stays meaningful while entries come and go: removed ones are simply not there, new children come
 * after every existing one, and nothing that existed throughout is listed twice or skipped.
 */
import { kindOf } from './attributes.js';
import { fail } from './errors.js';
import type { HandleNumbers } from './handles.js';
import type { InodeTable } from './inodes.js';
import { R_OK } from './mode.js';
import { DirNode, templateIno } from './node.js';
import type { Permissions } from './permissions.js';
import type { DirFiller, OpContext } from './vfs.js';

export class DirListing {
  private readonly byHandle = new Map<number, DirNode>();

  constructor(
    private readonly inodes: InodeTable,
    private readonly permissions: Permissions,
    private readonly handles: HandleNumbers,
  ) {}

  opendir(ino: number, ctx: OpContext): number {
    const node = this.inodes.nodeOf(ino);
    if (!(node instanceof DirNode)) fail('ENOTDIR');
    if (node.removed) fail('ENODEV');
    this.permissions.check(node, ctx.cred, R_OK);
    const dh = this.handles.take();
    this.byHandle.set(dh, node);
    return dh;
  }

  readdir(dh: number, cookie: number, fill: DirFiller): void {
    const dir = this.byHandle.get(dh);
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
    this.byHandle.delete(dh);
  }

  /** Directories with an open handle (they may be referred to after removal). */
  nodes(): IterableIterator<DirNode> {
    return this.byHandle.values();
  }
}
