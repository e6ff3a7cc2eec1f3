/**
 * The trace engine's front door: everything the layers above (tracefs, the package entry) use of it. The engine's
 * control and read API (`engine.ts`), the control plane's per-event files, the kernel text formats the files show,
 * the event definitions, and the inject language. Nothing above imports a file of src/trace/ other than this one.
 */
// Every thread that loads the engine's front door applies filters and triggers to its own emits, and the first one
// creates the hist table pool before any worker exists, so workers inherit it (docs/CONTROL.md).
import './control/install.js';

export {
  clearEventControl,
  dropInstance,
  hasTrigger,
  injectEvent,
  readEventFilter,
  readHist,
  readSystemFilter,
  readTrigger,
  setEventFilter,
  setSystemFilter,
  snapshotText,
  truncateTriggers,
  writeEnable,
  writeSnapshot,
  writeTrigger,
} from './control/index.js';
export * from './engine.js';
export {
  type DefineEventOptions,
  defineEvent,
  type EventValues,
  type FieldDeclarations,
  type FieldValue,
  TraceEvent,
} from './event.js';
export { parseInject } from './languages/inject/parse.js';
export type { FieldType } from './layout.js';
export type { EventDescriptor } from './record.js';
export {
  availableEventsText,
  ErrorLog,
  formatFileText,
  headerEventText,
  headerPageText,
  savedCmdlinesText,
  statsText,
  TextFileReader,
  TracePipeText,
  traceFileText,
  traceTextOptions,
} from './text/index.js';
