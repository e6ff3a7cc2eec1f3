/** ntrace's public API: typed tracepoints for Node.js applications, and `mount()` to serve them as tracefs. */
// Filters and triggers set through the filesystem apply to this thread's emits: src/trace/index.ts installs the
// control plane's hook when loaded (docs/CONTROL.md).
export {
  type DefineEventOptions,
  DuplicateEventError,
  defineEvent,
  EventBusyError,
  type EventValues,
  type FieldDeclarations,
  type FieldType,
  type FieldValue,
  setThreadName,
  TraceEvent,
} from './trace/index.js';
export { type MountOptions, mount, mountProblem, type ReconfigureOptions, type TracefsMount } from './tracefs/index.js';
