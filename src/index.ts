/** ntrace's public API: typed tracepoints for Node.js applications. */
// Filters and triggers set through the filesystem apply to this thread's emits (see docs/CONTROL.md).
import './trace/control/install.js';

export {
  type DefineEventOptions,
  defineEvent,
  type EventValues,
  type FieldDeclarations,
  type FieldValue,
  TraceEvent,
} from './trace/event.js';
export type { FieldType } from './trace/layout.js';
export { DuplicateEventError, EventBusyError } from './trace/registry.js';
export { attachSharedState, type SharedHandles, sharedHandles } from './trace/shared-state.js';
export { setThreadName } from './trace/threads.js';
export {
  type MountOptions,
  mount,
  mountProblem,
  type ReconfigureOptions,
  type TracefsMount,
  type TreeStats,
} from './tracefs/index.js';
