/**
 * Hist triggers whose tables live in the shared pool (pool.ts), for the control thread: the languages'
 * HistRegistry logic (parse, `if` filter, named hists, the kernel's errors) with the table memory taken from a pool
 * slot, so emitting threads and readers in any thread reach the table by slot number.
 *
 * Tables are released by `reconcile()` after each write: whatever no trigger set of the instance still holds
 * (a trigger removed, a `:pause`/`:clear` command applied to an existing trigger, a rejected duplicate).
 */

import { EINVAL, ENOMEM } from '../languages/errno.js';
import type { ErrorLogSink } from '../languages/error-log.js';
import type { CompiledFilter } from '../languages/filter/compile.js';
import { compileEventFilter } from '../languages/filter/event-filter.js';
import { HistTrigger } from '../languages/hist/hist-trigger.js';
import { keyFieldBytes } from '../languages/hist/key.js';
import {
  HIST_ERRORS,
  type HistFieldSpec,
  type HistSpec,
  histErrorContext,
  parseHistTrigger,
} from '../languages/hist/spec.js';
import { HistTable, type HistTableShape, histTableBytes } from '../languages/hist/table.js';
import type { HistTriggerHandle } from '../languages/trigger/trigger-set.js';
import type { EventDescriptor } from '../record.js';
import { histPool, POOL_SLOT_BYTES, prepareSlot } from './pool.js';
import { type ControlRoot, poolSlotDirty, releasePoolSlot, setPoolSlotDirty, takePoolSlot } from './shared-control.js';

/** Writer regions per table (emitting threads with a higher CPU index count as drops). */
export const HIST_REGIONS = 64;

/** The table's shape with as many writer regions (up to `regions`) as fit in `maxBytes`. */
function shapeOf(spec: HistSpec, regions: number, maxBytes: number): HistTableShape {
  let keyBytes = 0;
  for (const k of spec.keys) keyBytes += keyFieldBytes(k);
  const shape = {
    keyBytes,
    nSums: 1 + spec.vals.length,
    comm: spec.keys.some((k) => k.flag === 'execname'),
    maxEntries: 1 << spec.bits,
    regions: 1,
  };
  const region = histTableBytes(shape) - histTableBytes({ ...shape, regions: 0 });
  const fit = Math.floor((maxBytes - histTableBytes({ ...shape, regions: 0 })) / region);
  return { ...shape, regions: Math.max(1, Math.min(regions, fit)) };
}

/** Named hists must agree on keys and vals, as the kernel requires. */
function compatible(a: HistSpec, b: HistSpec): boolean {
  const same = (x: readonly HistFieldSpec[], y: readonly HistFieldSpec[]) =>
    x.length === y.length &&
    x.every((f, i) => f.name === y[i].name && f.size === y[i].size && f.signed === y[i].signed && f.flag === y[i].flag);
  return same(a.keys, b.keys) && same(a.vals, b.vals);
}

/** The pool slot of a table, or -1 for a private one. */
export function slotOf(table: HistTable): number {
  return histPool().sabs.indexOf(table.sab);
}

export class PooledHists {
  private readonly named = new Map<string, { spec: HistSpec; table: HistTable }>();
  private readonly owned = new Set<number>();
  private readonly published = new Set<number>();

  constructor(private readonly root: ControlRoot) {}

  readonly factory = (
    event: EventDescriptor,
    param: string | undefined,
    remove: boolean,
    log: ErrorLogSink,
  ): { ok: true; trigger: HistTrigger } | { ok: false; errno: number } => {
    const r = this.create(event, param, remove, log);
    if (r.ok) {
      const ctx = histErrorContext(event, param ?? '');
      r.trigger.errorLocation = ctx.location;
      r.trigger.errorCommand = ctx.command;
    }
    return r;
  };

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
    return new HistTable(shape, histPool().sabs[slot]);
  }

  private create(
    event: EventDescriptor,
    param: string | undefined,
    remove: boolean,
    log: ErrorLogSink,
  ): { ok: true; trigger: HistTrigger } | { ok: false; errno: number } {
    const ctx = histErrorContext(event, param ?? '');
    const r = parseHistTrigger(event, param);
    if (!r.ok) {
      if (r.error.message !== undefined) log.add(ctx.location, r.error.message, ctx.command, r.error.pos);
      return { ok: false, errno: r.error.errno };
    }
    const spec = r.spec;
    let filter: CompiledFilter | undefined;
    if (spec.filterText !== undefined) {
      const m = /^if[ \t]+/.exec(spec.filterText);
      if (!m) return { ok: false, errno: EINVAL };
      const f = compileEventFilter(event, spec.filterText.slice(m[0].length), log);
      if (!f.ok) return { ok: false, errno: f.error.errno };
      filter = f.filter;
    }
    const shown =
      spec.filterText === undefined ? spec : { ...spec, filterText: spec.filterText.replace(/^if[ \t]+/, '') };
    if (spec.name !== undefined) {
      const n = this.named.get(spec.name);
      if (n) {
        if (!compatible(n.spec, shown)) {
          log.add(ctx.location, HIST_ERRORS.NAMED_MISMATCH, ctx.command, Math.max(0, ctx.command.indexOf(spec.name)));
          return { ok: false, errno: EINVAL };
        }
        return { ok: true, trigger: new HistTrigger(event, shown, n.table, filter) };
      }
      const table = this.table(shown, remove);
      if (!table) return { ok: false, errno: ENOMEM };
      if (!remove) this.named.set(spec.name, { spec: shown, table });
      return { ok: true, trigger: new HistTrigger(event, shown, table, filter) };
    }
    const table = this.table(shown, remove);
    if (!table) return { ok: false, errno: ENOMEM };
    return { ok: true, trigger: new HistTrigger(event, shown, table, filter) };
  }

  /** Marks a slot as visible to other threads (its release then waits out the grace period). */
  publish(slot: number): void {
    if (slot >= 0) this.published.add(slot);
  }

  /** Releases every table no trigger in `live` uses (and forgets named hists left without triggers). */
  reconcile(live: Iterable<HistTriggerHandle>): void {
    const used = new Set<number>();
    for (const h of live) if (h instanceof HistTrigger) used.add(slotOf(h.table));
    for (const [name, n] of this.named) if (!used.has(slotOf(n.table))) this.named.delete(name);
    for (const slot of this.owned) {
      if (used.has(slot)) continue;
      this.owned.delete(slot);
      releasePoolSlot(this.root, slot, this.published.delete(slot));
    }
  }
}
