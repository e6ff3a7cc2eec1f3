/**
 * The `inject` file's emit (trace_events_inject.c): the parsed values are emitted from the calling thread (the
 * filesystem's serving thread) exactly as the application would emit them, but into the trace array that owns the
 * `inject` file only. The (instance, event) state, filter, system filter and triggers apply through the same control
 * hook every emitting thread runs; the record lands in this thread's own ring of that instance.
 *
 * Where the kernel differs: its inject path reserves the record directly, so unconditional triggers and the
 * soft-disable check before the reserve do not run (docs/TRACEFS.md); ntrace fires injected events as an emit.
 */
// The injecting thread applies filters and triggers like any emitting thread: it needs the control hook.
import './on-demand.js';
import { context } from '../context.js';
import { type CompiledEvent, compileEvent, emitIn } from '../emitter.js';
import { getEvent, isEventLive } from '../engine.js';

/** This thread's emit path of each injected event (compiled once; ids are never reused). */
const compiled = new Map<number, CompiledEvent>();

/** Emits `values` of event `id` in `instance` only, as an application emit would. Never throws. */
export function injectEvent(instance: number, id: number, values: Record<string, unknown>): void {
  try {
    const desc = isEventLive(id) ? getEvent(id) : undefined;
    if (desc === undefined) return;
    const s = context().s;
    let ev = compiled.get(id);
    if (ev === undefined) {
      ev = compileEvent(s, id, desc.layout);
      compiled.set(id, ev);
    }
    emitIn(s, ev, instance, values);
  } catch {
    // Nothing to report: the write itself succeeded, as the kernel's does when nothing is recorded.
  }
}
