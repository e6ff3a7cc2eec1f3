/** Converting trace.dat files for other viewers. */
export { type ExportOptions, type ExportResult, exportChromeJson, parseSpan, type SpanPair } from './chrome-json.js';
export { decodeFields, type EventFormat, parseFormat } from './event-format.js';
export { TraceDatError, TraceDatReader, type TraceDatRecord } from './trace-dat-reader.js';
