/** Kernel-compatible text output of the trace engine. Pure functions over `layout.ts` and `record.ts`. */
export { ERROR_LOG_MAX_ENTRIES, ErrorLog, type ErrorLogEntry } from './error-log.js';
export { TextFileReader, type TextSource, traceFileText } from './file-text.js';
export { formatFileText } from './format-file.js';
export { DEFAULT_SUBBUF_DATA_SIZE, headerEventText, headerPageText, SUBBUF_HEADER_SIZE } from './header-page.js';
export { availableEventsText, savedCmdlinesText } from './lists.js';
export { type NextRecord, type PipeItem, TracePipeText } from './pipe-stream.js';
export {
  compilePrintFormat,
  defaultPrintFormat,
  type PrintWriter,
  parsePrintFormat,
  printFmtLine,
  printText,
  printWriterFor,
  type RecordRenderer,
  rendererFor,
  validatePrintFormat,
} from './print-format.js';
export { snapshotHeader, snapshotHelpText } from './snapshot-text.js';
export { type RingBufferStats, statsText } from './stats.js';
export { clockInNs, formatSecondsUsecs, ns2usecs } from './timestamp.js';
export {
  DEFAULT_TRACE_TEXT_OPTIONS,
  eventText,
  latencyFlags,
  MARKER_EVENT,
  MARKER_SYMBOL,
  MARKER_SYSTEM,
  RAW_MARKER_EVENT,
  type TraceHeaderInfo,
  type TraceTextOptions,
  traceHeader,
  traceLine,
  traceTextOptions,
} from './trace-line.js';
