/** Recording a tracing directory to trace-cmd's trace.dat. */
export { type RecordOptions, type RecordProgress, type RecordResult, record } from './recorder.js';
export { layoutTraceDat, type TraceDatHeader } from './trace-dat.js';
