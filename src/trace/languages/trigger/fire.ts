/**
 * Firing the triggers of one emit (event_triggers_call in trace_events_trigger.c), in the emitting thread: each
 * trigger whose `if` filter matches does its command against the actions the caller supplies (the control plane's
 * runtime: the engine's tracing_on, enable bits, snapshot and stack records), and uses up one count only when it
 * acts, as the kernel does. Never throws.
 */
import type { EventDescriptor } from '../../record.js';
import type { CompiledFilter } from '../filter/compile.js';
import type { EmitContext, Values } from '../filter/evaluate.js';
import { compileEventFilter } from '../filter/event-filter.js';
import type { TriggerCommand } from './trigger-set.js';

/** What a hist trigger needs at emit time. */
export interface HistUpdate {
  update(values: Values, ctx: EmitContext): void;
  readonly filter: CompiledFilter | undefined;
}

/** One trigger ready to fire. */
export interface Firing {
  readonly cmd: TriggerCommand;
  readonly filter: CompiledFilter | undefined;
  /** The count cell: `counts[cell]` holds the firings left, -1 = unlimited; cell -1 = no cell (unlimited). */
  readonly counts: BigInt64Array;
  readonly cell: number;
  /** enable_event/disable_event/enable_hist/disable_hist target, as the actions name events (0 = gone). */
  readonly target: number;
  readonly hist: HistUpdate | undefined;
}

/** What fired triggers do, in the instance whose triggers fire. */
export interface TriggerActions {
  isTracingOn(): boolean;
  setTracingOn(on: boolean): void;
  /** The `snapshot` file's `echo 1`: swap the instance's buffer with its snapshot. */
  snapshot(): void;
  /** Record a stack entry with these frames (innermost first, ntrace's own frames removed). */
  stacktrace(frames: string[]): void;
  /** Whether the target records (the kernel's ENABLED and not SOFT_DISABLED). */
  isRecording(target: number): boolean;
  setRecording(target: number, on: boolean): void;
  /** enable_hist / disable_hist: resume or pause every hist trigger of the target. */
  setHistPaused(target: number, paused: boolean): void;
}

/** Uses up one firing of a count cell; false when none is left. */
export function takeCount(counts: BigInt64Array, cell: number): boolean {
  if (cell < 0) return true;
  for (;;) {
    const c = Atomics.load(counts, cell);
    if (c === 0n) return false;
    if (c === -1n) return true;
    if (Atomics.compareExchange(counts, cell, c, c - 1n) === c) return true;
  }
}

/** The current JS stack, innermost first, one frame string each (`fn (file:line:col)`), without ntrace's own frames. */
export function captureFrames(): string[] {
  const saved = Error.stackTraceLimit;
  Error.stackTraceLimit = 32;
  const raw = new Error().stack ?? '';
  Error.stackTraceLimit = saved;
  const out: string[] = [];
  for (const l of raw.split('\n').slice(1)) {
    const f = l.trim().replace(/^at /, '');
    // ntrace's own frames (emit path, triggers) are not the application's stack; the emit path runs from the
    // application face's bundle (scripts/bundle-app-face.mjs).
    if (/[\\/]src[\\/](trace[\\/]|app-face\.bundle\.js:)/.test(f)) continue;
    out.push(f);
    if (out.length >= 16) break;
  }
  return out;
}

/**
 * Builds one trigger for firing from what the trigger file published: its command, `if` filter source (compiled
 * here, in the firing thread) and count cell; a hist trigger brings its own filter.
 */
export function toFiring(
  event: EventDescriptor,
  spec: { readonly cmd: TriggerCommand; readonly filter?: string },
  counts: BigInt64Array,
  cell: number,
  target: number,
  hist: HistUpdate | undefined,
): Firing {
  let filter: CompiledFilter | undefined;
  if (hist !== undefined) filter = hist.filter;
  else if (spec.filter !== undefined) {
    const f = compileEventFilter(event, spec.filter, { add() {} });
    if (f.ok) filter = f.filter;
  }
  return { cmd: spec.cmd, filter, counts, cell, target, hist };
}

/**
 * Runs `triggers` for one emit. The caller runs them before writing the record when the set is not conditional,
 * after it otherwise (TriggerSet.conditional).
 */
export function fireTriggers(
  triggers: readonly Firing[],
  values: Values,
  ctx: EmitContext,
  actions: TriggerActions,
): void {
  for (const t of triggers) {
    try {
      if (t.filter && !t.filter.matchValues(values, ctx)) continue;
      switch (t.cmd) {
        case 'traceon':
        case 'traceoff': {
          const on = t.cmd === 'traceon';
          // Only a change of state uses up the count.
          if (actions.isTracingOn() !== on && takeCount(t.counts, t.cell)) actions.setTracingOn(on);
          break;
        }
        case 'snapshot':
          if (takeCount(t.counts, t.cell)) actions.snapshot();
          break;
        case 'stacktrace':
          if (takeCount(t.counts, t.cell)) actions.stacktrace(captureFrames());
          break;
        case 'enable_event':
        case 'disable_event': {
          if (t.target === 0) break;
          const enable = t.cmd === 'enable_event';
          if (actions.isRecording(t.target) !== enable && takeCount(t.counts, t.cell))
            actions.setRecording(t.target, enable);
          break;
        }
        case 'enable_hist':
        case 'disable_hist':
          // Every firing uses up the count.
          if (t.target !== 0 && takeCount(t.counts, t.cell)) actions.setHistPaused(t.target, t.cmd === 'disable_hist');
          break;
        case 'hist':
          t.hist?.update(values, ctx);
          break;
      }
    } catch {
      // A trigger never throws into the application.
    }
  }
}
