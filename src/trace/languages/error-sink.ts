/**
 * What the languages report to the instance's `error_log` (the store itself belongs to the text output, which formats
 * `[ts] <location>: error: <message>\n  Command: <command>\n<caret line>`). Same arguments as the kernel's
 * `tracing_log_err()`: the caret is printed under `command[pos]`, i.e. after `"  Command: ".length + pos` spaces.
 */
export interface ErrorLogSink {
  add(location: string, message: string, command: string, pos: number): void;
}

/** A sink that drops everything, for callers that have no error_log (e.g. trigger filters checked in tests). */
export const NULL_ERROR_LOG: ErrorLogSink = { add() {} };

/**
 * One error as a language reported it (no timestamp yet; the `error_log` store in text/error-log.ts keeps its own
 * `ErrorLogEntry`, stamped); handy for tests and for callers that buffer errors.
 */
export interface ReportedError {
  readonly location: string;
  readonly message: string;
  readonly command: string;
  readonly pos: number;
}

/** Collects entries in memory (tests, and the tracefs layer if it wants to forward them later). */
export class CollectingErrorLog implements ErrorLogSink {
  readonly entries: ReportedError[] = [];
  add(location: string, message: string, command: string, pos: number): void {
    this.entries.push({ location, message, command, pos });
  }
}

/** The kernel's rendering of one entry without the timestamp prefix (used by tests to compare with real output). */
export function formatReportedError(e: ReportedError): string {
  return `${e.location}: error: ${e.message}\n  Command: ${e.command}\n${' '.repeat(11 + e.pos)}^\n`;
}
