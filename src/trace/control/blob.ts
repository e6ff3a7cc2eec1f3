/**
 * What the control thread publishes per (instance, event) for emitting threads: the active filter's source text
 * and the trigger specs, as JSON. Emitting threads rebuild everything from it (compiling is deterministic), and
 * reach shared state through numbers: count cells and hist pool slots.
 */
import type { HistSpec } from '../languages/hist/spec.js';
import type { HistTableShape } from '../languages/hist/table.js';
import type { TriggerCommand } from '../languages/trigger/trigger-set.js';

export interface TriggerBlob {
  readonly cmd: TriggerCommand;
  /** Count cell in the control root; -1: no shared cell (unlimited). */
  readonly cell: number;
  readonly filter?: string;
  readonly target?: { readonly system: string; readonly event: string };
  readonly hist?: { readonly spec: HistSpec; readonly shape: HistTableShape; readonly slot: number };
}

export interface ControlBlob {
  /** Source of the active filter; absent = record everything. */
  readonly filter?: string;
  /** Newest first, as the trigger file lists them. */
  readonly triggers: readonly TriggerBlob[];
  /** The kernel's TRIGGER_COND: run the triggers after the record instead of before. */
  readonly conditional: boolean;
}

export function parseBlob(text: string | undefined): ControlBlob | undefined {
  if (text === undefined || text === '') return undefined;
  try {
    const b = JSON.parse(text) as ControlBlob;
    return typeof b === 'object' && b !== null && Array.isArray(b.triggers) ? b : undefined;
  } catch {
    return undefined;
  }
}
