/**
 * The `error_log` file's store: the last few command errors of one trace instance, printed the kernel's way
 * (tracing_log_err() / tracing_err_log_seq_show()):
 *
 *   [  365.536981] event filter parse error: error: Field not found
 *     Command: prev_pid == 1 && foo == 1
 *                                   ^
 */

/** The kernel keeps this many entries per instance; the oldest one is reused for a new error. */
export const ERROR_LOG_MAX_ENTRIES = 8;
/** The location text ("<loc>: error: ") is cut to this many bytes minus the NUL, as the kernel's snprintf does. */
export const ERROR_LOG_LOCATION_MAX = 128;
const COMMAND_PREFIX = '  Command: ';
/** The caret position is a u16 in the kernel. */
const MAX_POS = 0xffff;

export interface ErrorLogEntry {
  /** Clock value in nanoseconds when the error was logged. */
  readonly ts: bigint;
  /** Where: "event filter parse error", "hist:sched:sched_switch", ... */
  readonly location: string;
  /** The error message. */
  readonly message: string;
  /** The command as the user wrote it. */
  readonly command: string;
  /** Offset in `command` the caret points at. */
  readonly pos: number;
}

function entryText(e: ErrorLogEntry): string {
  const sec = e.ts / 1_000_000_000n;
  const usec = (e.ts % 1_000_000_000n) / 1000n;
  let loc = `${e.location}: error: `;
  if (loc.length >= ERROR_LOG_LOCATION_MAX) loc = loc.slice(0, ERROR_LOG_LOCATION_MAX - 1);
  const pos = Math.max(0, Math.min(MAX_POS, Math.trunc(e.pos) || 0));
  return (
    `[${sec.toString().padStart(5)}.${usec.toString().padStart(6, '0')}] ${loc}${e.message}\n` +
    `${COMMAND_PREFIX}${e.command}\n${' '.repeat(COMMAND_PREFIX.length + pos)}^\n`
  );
}

export class ErrorLog {
  readonly #entries: ErrorLogEntry[] = [];
  readonly #clock: () => bigint;
  readonly #max: number;

  /** `clock` returns the current time in nanoseconds (the kernel uses local_clock(): time since boot). */
  constructor(clock: () => bigint, maxEntries: number = ERROR_LOG_MAX_ENTRIES) {
    this.#clock = clock;
    this.#max = maxEntries;
  }

  /**
   * Records an error; the oldest entry goes when the log is full. `pos` is the caret's offset in `command`. Same
   * shape as the languages' ErrorLogSink, so an ErrorLog can be handed to the filter/trigger parsers directly.
   */
  add(location: string, message: string, command: string, pos: number): void {
    let ts: bigint;
    try {
      ts = this.#clock();
    } catch {
      ts = 0n;
    }
    if (this.#entries.length >= this.#max) this.#entries.shift();
    this.#entries.push(Object.freeze({ ts: ts < 0n ? 0n : ts, location, message, command, pos }));
  }

  /** Empties the log (what opening `error_log` with O_TRUNC does). */
  clear(): void {
    this.#entries.length = 0;
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Oldest first. */
  entries(): readonly ErrorLogEntry[] {
    return this.#entries.slice();
  }

  /** The file's text, oldest entry first. */
  text(): string {
    let s = '';
    for (const e of this.#entries) s += entryText(e);
    return s;
  }
}
