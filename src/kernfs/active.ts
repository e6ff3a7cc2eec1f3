/**
 * Active references: every op on a node holds one while it runs (Linux kernfs_get_active/put_active), so a removal
 * can wait until the ops already in flight in the removed subtree have settled (kernfs_drain). Only nodes with an op
 * in flight have an entry, so an idle tree costs nothing here.
 */
import { isAncestorOrSelf, type KernfsNode } from './node.js';

interface Drain {
  readonly top: KernfsNode;
  readonly done: () => void;
}

export class ActiveRefs {
  private readonly counts = new Map<KernfsNode, number>();
  /** Waiters for a subtree to have no op in flight. */
  private drains: Drain[] = [];

  enter(node: KernfsNode): void {
    this.counts.set(node, (this.counts.get(node) ?? 0) + 1);
  }

  /** Drop one reference; true when `node` has no op left in flight (then call settleDrains). */
  leave(node: KernfsNode): boolean {
    const n = (this.counts.get(node) ?? 1) - 1;
    if (n > 0) this.counts.set(node, n);
    else this.counts.delete(node);
    return n === 0;
  }

  /** Is an op in flight on `top` or anything under it? */
  within(top: KernfsNode): boolean {
    for (const node of this.counts.keys()) if (isAncestorOrSelf(top, node)) return true;
    return false;
  }

  /** Call `done` once no op is in flight under `top` (the caller checked that one is now). */
  whenIdle(top: KernfsNode, done: () => void): void {
    this.drains.push({ top, done });
  }

  /** Complete the drains whose subtree has gone idle. */
  settleDrains(): void {
    if (this.drains.length === 0) return;
    const ready = this.drains.filter((d) => !this.within(d.top));
    if (ready.length > 0) {
      this.drains = this.drains.filter((d) => !ready.includes(d));
      for (const d of ready) d.done();
    }
  }

  /** Nodes with an op in flight (they may still be referred to after removal). */
  nodes(): IterableIterator<KernfsNode> {
    return this.counts.keys();
  }
}
