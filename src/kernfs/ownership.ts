/**
 * Who owns a node: its explicit uid/gid if set in the current epoch, else what the ownership policy says (asked
 * lazily, nothing stored per node), ending at the root, whose default is the mount owner. A remount-style reset bumps
 * an epoch instead of visiting every node: explicit ids from an older epoch are simply no longer honoured.
 */
import { explicitAttrs } from './explicit-attrs.js';
import type { KernfsNode, NodeAttrs } from './node.js';
import type { Owner, Owners, OwnershipPolicy } from './options.js';

export class Ownership implements Owners {
  private mountUid: number;
  private mountGid: number;
  private uidEpoch = 0;
  private gidEpoch = 0;
  private mountOwnerObject: Owner;

  constructor(
    uid: number,
    gid: number,
    private readonly policy: OwnershipPolicy | undefined,
  ) {
    this.mountUid = uid;
    this.mountGid = gid;
    this.mountOwnerObject = Object.freeze({ uid, gid });
  }

  /** The owner given by the mount options (or the last reset). One frozen object until the next reset. */
  get mountOwner(): Owner {
    return this.mountOwnerObject;
  }

  /**
   * Effective owner of a node: explicit (and not reset) ids, else the ownership policy's. Asked on every lookup,
   * getattr and permission check, so a node that follows its default shares its default's object: nothing is
   * allocated unless the node mixes an explicit id with a default one or has both set.
   */
  ownerOf(node: KernfsNode): Owner {
    const a = explicitAttrs(node);
    if (a === null) return this.defaultOwner(node);
    const uidSet = a.uid >= 0 && a.uidEpoch === this.uidEpoch;
    const gidSet = a.gid >= 0 && a.gidEpoch === this.gidEpoch;
    if (!uidSet && !gidSet) return this.defaultOwner(node);
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
    this.mountOwnerObject = Object.freeze({ uid: this.mountUid, gid: this.mountGid });
  }

  private defaultOwner(node: KernfsNode): Owner {
    if (node.parent === null) return this.mountOwnerObject;
    return this.policy ? this.policy(node, this) : this.ownerOf(node.parent);
  }
}
