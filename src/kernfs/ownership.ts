/**
 * Who owns a node: its explicit uid/gid if set in the current epoch, else what the ownership policy says (asked
 * lazily, nothing stored per node), ending at the root, whose default is the mount owner. A remount-style reset bumps
 * an epoch instead of visiting every node: explicit ids from an older epoch are simply no longer honoured.
 */
import { explicitAttrs } from './explicit-attrs.js';
import type { Kernfs } from './kernfs.js';
import type { KernfsNode, NodeAttrs } from './node.js';
import type { Owner, OwnershipPolicy } from './options.js';

export class Ownership {
  private mountUid: number;
  private mountGid: number;
  private uidEpoch = 0;
  private gidEpoch = 0;

  constructor(
    uid: number,
    gid: number,
    private readonly policy: OwnershipPolicy | undefined,
    /** What the policy is given as its `tree` argument. */
    private readonly tree: Kernfs,
  ) {
    this.mountUid = uid;
    this.mountGid = gid;
  }

  /** The owner given by the mount options (or the last reset). */
  get mountOwner(): Owner {
    return { uid: this.mountUid, gid: this.mountGid };
  }

  /** Effective owner of a node: explicit (and not reset) ids, else the ownership policy's. */
  ownerOf(node: KernfsNode): Owner {
    const a = explicitAttrs(node);
    const uidSet = a !== null && a.uid >= 0 && a.uidEpoch === this.uidEpoch;
    const gidSet = a !== null && a.gid >= 0 && a.gidEpoch === this.gidEpoch;
    if (uidSet && gidSet) return { uid: a.uid, gid: a.gid };
    const d = this.defaultOwner(node);
    return { uid: uidSet ? a.uid : d.uid, gid: gidSet ? a.gid : d.gid };
  }

  /** Record explicit ids in `attrs`, valid until the next reset; an omitted id keeps following the policy. */
  setExplicit(attrs: NodeAttrs, uid: number | undefined, gid: number | undefined): void {
    if (uid !== undefined) {
      attrs.uid = uid;
      attrs.uidEpoch = this.uidEpoch;
    }
    if (gid !== undefined) {
      attrs.gid = gid;
      attrs.gidEpoch = this.gidEpoch;
    }
  }

  /** New mount owner; every explicit uid and/or gid set before is forgotten at once. */
  reset(owner: { uid?: number; gid?: number }): void {
    if (owner.uid !== undefined) {
      this.mountUid = owner.uid;
      this.uidEpoch++;
    }
    if (owner.gid !== undefined) {
      this.mountGid = owner.gid;
      this.gidEpoch++;
    }
  }

  private defaultOwner(node: KernfsNode): Owner {
    if (node.parent === null) return { uid: this.mountUid, gid: this.mountGid };
    return this.policy ? this.policy(node, this.tree) : this.ownerOf(node.parent);
  }
}
