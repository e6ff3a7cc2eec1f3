/**
 * ntrace's control languages — the kernel's event filters, triggers, histograms and inject — as a library that
 * knows no filesystem. docs/LANGUAGES.md describes how the engine and tracefs wire it.
 */
export { EEXIST, EINVAL, ENOENT, EPERM, ERANGE, ESRCH, LANGUAGE_ERRNOS } from './errno.js';
export {
  CollectingErrorLog,
  type ErrorLogEntry,
  type ErrorLogSink,
  formatErrorLogEntry,
  NULL_ERROR_LOG,
} from './error-log.js';
export type { CompiledFilter, EmitPredicate, RecordPredicate } from './filter/compile.js';
export { compileFilter } from './filter/compile.js';
export type { EmitContext, Values } from './filter/evaluate.js';
export { evaluateOnRecord, evaluateOnValues } from './filter/evaluate.js';
export {
  compileEventFilter,
  DEFAULT_SYS_FILTER_MESSAGE,
  FILTER_ERROR_LOCATION,
  type FilterState,
  type FilterWriteResult,
  isClearRequest,
  NO_FILTER,
  readEventFilter,
  readSystemFilter,
  type SystemFilterWriteResult,
  writeEventFilter,
  writeSystemFilter,
} from './filter/event-filter.js';
export { fieldTable } from './filter/fields.js';
export { FILTER_ERRORS, type FilterProgram, parseFilter } from './filter/parse.js';
export {
  DEFAULT_HIST_REGIONS,
  HistRegistry,
  HistTrigger,
  type HistTriggerData,
  readHistFile,
} from './hist/hist-trigger.js';
export { HIST_ERRORS, type HistSpec, parseHistTrigger } from './hist/spec.js';
export { type HistSnapshot, HistTable } from './hist/table.js';
export { type InjectResult, type InjectValues, parseInject } from './inject/parse.js';
export {
  type EnableFlags,
  enableDisable,
  enableText,
  isRecording,
  newEnableFlags,
} from './trigger/soft-enable.js';
export {
  AVAILABLE_TRIGGERS_TEXT,
  captureStack,
  type HistTriggerFactory,
  type HistTriggerHandle,
  TRIGGER_COMMANDS,
  type TriggerCommand,
  TriggerSet,
  type TriggerSpec,
} from './trigger/trigger-set.js';
export type { TriggerActions, TriggerControl } from './trigger/types.js';
