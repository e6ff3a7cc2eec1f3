/**
 * The trace engine's front door: everything the layers above (tracefs, src/node, the CLI) use of it. The engine's
 * control and read API (`engine.ts`), the control plane's per-event files, the kernel text formats the files show,
 * the event definitions, and the inject language. It includes the application's face (app.ts), which the package
 * entry loads alone so that importing ntrace stays small. Nothing above imports another file of src/trace/.
 */
export * from './app.js';

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
export { parseInject } from './languages/inject/parse.js';
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
  type TextSource,
  TracePipeText,
  traceFileText,
  traceTextOptions,
} from './text/index.js';
