/**
 * What stat(2) shows of a node, and setattr's changes recorded on it. Attributes are lazy: the mode lives in the
 * node, the owner comes from ./ownership.ts, and times nobody set report the mount time, so nothing is stored until
 * someone changes something.
 */
import { constantContent } from './constant-content.js';
import { ensureAttrs, explicitAttrs, modeOf } from './explicit-attrs.js';
import { PERM_MASK, S_IFDIR, S_IFLNK, S_IFMT } from './mode.js';
import { type AnyFile, DirNode, type KernfsNode, SymlinkNode, TemplateFile } from './node.js';
import type { Ownership } from './ownership.js';
import type { AttrChanges, Attributes, NodeKind } from './vfs.js';

export function kindOf(mode: number): NodeKind {
  const type = mode & S_IFMT;
  return type === S_IFDIR ? 'dir' : type === S_IFLNK ? 'symlink' : 'file';
}

export class NodeAttributes {
  constructor(
    private readonly ownership: Ownership,
    private readonly mountTimeMs: number,
    private readonly now: () => number,
  ) {}

  /** stat(2) of `node`. */
  of(node: KernfsNode): Attributes {
    const mode = modeOf(node);
    const owner = this.ownership.ownerOf(node);
    const a = explicitAttrs(node);
    const t = this.mountTimeMs;
    let size = 0;
    let nlink = 1;
    if (node instanceof DirNode) nlink = 2 + (node.children?.subdirs ?? 0);
    else if (node instanceof SymlinkNode)
      size = Buffer.byteLength(node.target, 'utf8'); // counts, no copy
    else size = constantContent(node as AnyFile)?.byteLength ?? (node as AnyFile).size;
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

  /**
   * Record the mode, owner and time changes of an allowed setattr. Any of them also records its ctime, so it
   * allocates the node's explicit attributes; a mere truncate changes nothing (generated files have no content).
   */
  apply(node: KernfsNode, changes: AttrChanges): void {
    const touched =
      changes.mode !== undefined ||
      changes.uid !== undefined ||
      changes.gid !== undefined ||
      changes.atimeMs !== undefined ||
      changes.mtimeMs !== undefined;
    if (!touched) return;
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
}
