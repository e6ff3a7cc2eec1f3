/**
 * This thread's engine context: the shared state plus thread-local caches (registry, thread names). The first
 * use in any thread also makes sure the top-level instance and the built-in events exist.
 */
import { BUILTIN_EVENTS } from './builtin-events.js';
import { ensureTopInstance } from './instances.js';
import { DuplicateEventError, RegistryView, registerEvent } from './registry.js';
import { EV_FREE, type SharedState, shared } from './shared-state.js';
import { CpuNames } from './threads.js';

export interface Context {
  readonly s: SharedState;
  readonly registry: RegistryView;
  readonly names: CpuNames;
}

let ctx: Context | undefined;

export function context(): Context {
  if (ctx) return ctx;
  const s = shared();
  const registry = new RegistryView(s);
  ensureTopInstance(s);
  for (const b of BUILTIN_EVENTS) {
    if (Atomics.load(s.eventStatus, b.id) !== EV_FREE) continue;
    try {
      registerEvent(s, registry, { system: b.system, name: b.name, fields: [...b.fields], print: b.print }, b.id);
    } catch (e) {
      if (!(e instanceof DuplicateEventError)) throw e; // another thread got there first
    }
  }
  ctx = { s, registry, names: new CpuNames(s) };
  return ctx;
}
