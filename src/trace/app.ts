/**
 * The engine's face for applications: what a program that defines and emits events needs (the package entry
 * `ntrace` and `ntrace/worker` load only this). It is kept small so importing ntrace stays cheap: the control plane
 * loads on the first emit that needs it (control/on-demand.ts); the control and read API, the text formats and the
 * languages load with the filesystem side, through the full front door (index.ts, which re-exports this).
 */
import './control/on-demand.js';

export {
  type DefineEventOptions,
  defineEvent,
  type EventValues,
  type FieldDeclarations,
  type FieldValue,
  TraceEvent,
} from './event.js';
export type { FieldType } from './layout.js';
export { DuplicateEventError, EventBusyError } from './registry.js';
export { attachSharedState, type SharedHandles, sharedHandles } from './shared-state.js';
export { setThreadName } from './threads.js';
