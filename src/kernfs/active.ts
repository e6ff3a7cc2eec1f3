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
  /**
   * The nodes with an op in flight and how many, as two arrays of which the first `n` slots are used: a handful at
   * a time (one per parked read, at most), so a scan beats a Map, which V8 shrinks and regrows as it empties and
   * fills — a runtime call and a new table for every op when one runs at a time.
   */
  private readonly inFlight: (KernfsNode | undefined)[] = [];
  private readonly counts: number[] = [];
  private n = 0;
  /** Waiters for a subtree to have no op in flight. */
  private drains: Drain[] = [];

  enter(node: KernfsNode): void {
    const i = this.indexOf(node);
    if (i >= 0) {
      this.counts[i]++;
      return;
    }
    this.inFlight[this.n] = node;
    this.counts[this.n] = 1;
    this.n++;
  }

  /** Drop one reference; true when `node` has no op left in flight (then call settleDrains). */
  leave(node: KernfsNode): boolean {
    const i = this.indexOf(node);
    if (i < 0) return true;
    if (--this.counts[i] > 0) return false;
    const last = --this.n;
    this.inFlight[i] = this.inFlight[last];
    this.counts[i] = this.counts[last];
    this.inFlight[last] = undefined; // keeps no node alive
    return true;
  }

  /** Is an op in flight on `top` or anything under it? */
  within(top: KernfsNode): boolean {
    for (let i = 0; i < this.n; i++) if (isAncestorOrSelf(top, this.inFlight[i]!)) return true;
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
  nodes(): KernfsNode[] {
    return this.inFlight.slice(0, this.n) as KernfsNode[];
  }

  private indexOf(node: KernfsNode): number {
    for (let i = 0; i < this.n; i++) if (this.inFlight[i] === node) return i;
    return -1;
  }
}
