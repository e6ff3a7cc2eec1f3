/**
 * Permission decisions on effective owner and mode: the generic mode check (mayAccess in ./mode.ts) and setattr's
 * rules for who may chmod, chown, chgrp and set times, as Linux's setattr_prepare applies them.
 */
import { fail } from './errors.js';
import { modeOf } from './explicit-attrs.js';
import { inGroup, mayAccess, W_OK } from './mode.js';
import type { KernfsNode } from './node.js';
import type { Ownership } from './ownership.js';
import type { AttrChanges, Credentials } from './vfs.js';

export class Permissions {
  constructor(private readonly ownership: Ownership) {}

  /** EACCES unless `cred` may access `node` for every bit of `mask` (R_OK|W_OK|X_OK). */
  check(node: KernfsNode, cred: Credentials, mask: number): void {
    if ((mask & 7) === 0) return;
    // root's decision never depends on the owner (see mayAccess): skip resolving it on the hottest path.
    if (cred.uid === 0) {
      if (!mayAccess(modeOf(node), 0, 0, cred, mask)) fail('EACCES');
      return;
    }
    const owner = this.ownership.ownerOf(node);
    if (!mayAccess(modeOf(node), owner.uid, owner.gid, cred, mask)) fail('EACCES');
  }

  /**
   * EPERM (or EACCES) unless `cred` may make the mode, owner and time changes in `changes`: chmod needs owner or
   * root; chown root, or the owner "changing" to itself; chgrp the owner into a group they belong to, or root;
   * explicit times owner or root, while "now" for both needs only write permission (utimes(NULL)).
   */
  checkSetattr(node: KernfsNode, changes: AttrChanges, cred: Credentials): void {
    const isRoot = cred.uid === 0;
    const owner = this.ownership.ownerOf(node);
    const isOwner = cred.uid === owner.uid;
    if (changes.mode !== undefined && !isRoot && !isOwner) fail('EPERM');
    if (changes.uid !== undefined && !isRoot && !(isOwner && changes.uid === owner.uid)) fail('EPERM');
    if (changes.gid !== undefined && !isRoot && !(isOwner && inGroup(cred, changes.gid))) fail('EPERM');
    const { atimeMs, mtimeMs } = changes;
    if ((atimeMs !== undefined || mtimeMs !== undefined) && !isRoot && !isOwner) {
      if ((atimeMs !== undefined && atimeMs !== 'now') || (mtimeMs !== undefined && mtimeMs !== 'now')) fail('EPERM');
      this.check(node, cred, W_OK);
    }
  }
}
