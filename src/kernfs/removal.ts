/**
 * Removing a subtree, as Linux kernfs_remove does it but with a Promise for the drain: the tree changes at once
 * (lookups miss it, open files in it end and answer ENODEV), then the removal waits until every op already in flight
 * in it has settled and releases its open files. Busy marks make `remove` refuse with EBUSY.
 */
import type { ActiveRefs } from './active.js';
import { fail } from './errors.js';
import { BUSY, DirNode, type KernfsNode, REMOVED, type SlottedNode } from './node.js';
import type { OpenFiles } from './open-files.js';
import type { Tree } from './tree.js';

export class Removal {
  /** Removals still draining, by the node removed. */
  private readonly pending = new Map<KernfsNode, Promise<void>>();

  constructor(
    private readonly tree: Tree,
    private readonly files: OpenFiles,
    private readonly active: ActiveRefs,
  ) {}

  /** See Kernfs.remove. */
  remove(node: SlottedNode): Promise<void> {
    if (node.removed) {
      // Already going or gone: wait for whichever removal (of it or an ancestor) is still draining.
      for (let n: KernfsNode | null = node; n !== null; n = n.parent) {
        const pending = this.pending.get(n);
        if (pending) return pending;
      }
      return Promise.resolve();
    }
    if (node === this.tree.root || node.parent === null) fail('EINVAL', 'the root cannot be removed');
    if (busyWithin(node)) fail('EBUSY');

    this.tree.detach(node.parent, node);
    markRemoved(node);

    const ended = this.files.endWithin(node);
    const finish = (): void => {
      for (const file of ended) this.files.releaseOnce(file);
      this.pending.delete(node);
    };
    if (!this.active.within(node)) {
      finish();
      return Promise.resolve();
    }
    const promise = new Promise<void>((resolve) => {
      this.active.whenIdle(node, () => {
        finish();
        resolve();
      });
    });
    this.pending.set(node, promise);
    return promise;
  }

  setBusy(node: SlottedNode, busy: boolean): void {
    node.state = busy ? node.state | BUSY : node.state & ~BUSY;
  }
}

function markRemoved(node: SlottedNode): void {
  node.state |= REMOVED;
  if (node instanceof DirNode && node.children) for (const child of node.children.byName.values()) markRemoved(child);
}

function busyWithin(node: SlottedNode): boolean {
  if (node.state & BUSY) return true;
  if (node instanceof DirNode && node.children) {
    for (const child of node.children.byName.values()) if (busyWithin(child)) return true;
  }
  return false;
}
