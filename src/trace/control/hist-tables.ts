/**
 * Hist triggers whose tables live in the shared pool (pool.ts), for the control thread: the languages'
 * HistRegistry (parse, `if` filter, named hists, the kernel's errors) with the table memory taken from a pool
 * slot, so emitting threads and readers in any thread reach the table by slot number.
 *
 * Tables are released by `reconcile()` after each write: whatever no trigger set of the instance still holds
 * (a trigger removed, a `:pause`/`:clear` command applied to an existing trigger, a rejected duplicate).
 */

import { HistRegistry, HistTrigger, oneRegionShape } from '../languages/hist/hist-trigger.js';
import type { HistSpec } from '../languages/hist/spec.js';
import { HistTable, type HistTableShape, histTableBytes } from '../languages/hist/table.js';
import type { HistTriggerHandle } from '../languages/trigger/trigger-set.js';
import { histSlots, POOL_SLOT_BYTES, prepareSlot } from './pool.js';
import { type ControlRoot, poolSlotDirty, releasePoolSlot, setPoolSlotDirty, takePoolSlot } from './shared-control.js';

/** Writer regions per table (emitting threads with a higher CPU index count as drops). */
export const HIST_REGIONS = 64;

/** The table's shape with as many writer regions (up to `regions`) as fit in `maxBytes`. */
function shapeOf(spec: HistSpec, regions: number, maxBytes: number): HistTableShape {
  const shape = oneRegionShape(spec);
  const region = histTableBytes(shape) - histTableBytes({ ...shape, regions: 0 });
  const fit = Math.floor((maxBytes - histTableBytes({ ...shape, regions: 0 })) / region);
  return { ...shape, regions: Math.max(1, Math.min(regions, fit)) };
}

/** The pool slot of a table, or -1 for a private one. */
export function slotOf(table: HistTable): number {
  return histSlots().indexOf(table.sab);
}

export class PooledHists {
  private readonly owned = new Set<number>();
  private readonly published = new Set<number>();
  private readonly registry = new HistRegistry((spec, remove) => this.table(spec, remove));

  constructor(private readonly root: ControlRoot) {}

  /** The HistTriggerFactory for the control plane's trigger sets. */
  readonly factory = this.registry.factory;

  private table(spec: HistSpec, remove: boolean): HistTable | undefined {
    // A removal only needs the definition to compare with: a private one-region table, never published.
    if (remove) return new HistTable(shapeOf(spec, 1, Number.MAX_SAFE_INTEGER));
    const slot = takePoolSlot(this.root, histTableBytes(shapeOf(spec, HIST_REGIONS, Number.MAX_SAFE_INTEGER)));
    if (slot < 0) return undefined;
    const shape = shapeOf(spec, HIST_REGIONS, POOL_SLOT_BYTES[slot]);
    const bytes = histTableBytes(shape);
    if (!prepareSlot(slot, bytes, poolSlotDirty(this.root, slot))) {
      releasePoolSlot(this.root, slot, false);
      return undefined;
    }
    setPoolSlotDirty(this.root, slot, bytes);
    this.owned.add(slot);
    return new HistTable(shape, histSlots()[slot]);
  }

  /** Marks a slot as visible to other threads (its release then waits out the grace period). */
  publish(slot: number): void {
    if (slot >= 0) this.published.add(slot);
  }

  /** Releases every table no trigger in `live` uses (and forgets named hists left without triggers). */
  reconcile(live: Iterable<HistTriggerHandle>): void {
    const used = new Set<number>();
    for (const h of live) if (h instanceof HistTrigger) used.add(slotOf(h.table));
    this.registry.forgetNamed((table) => !used.has(slotOf(table)));
    for (const slot of this.owned) {
      if (used.has(slot)) continue;
      this.owned.delete(slot);
      releasePoolSlot(this.root, slot, this.published.delete(slot));
    }
  }
}
