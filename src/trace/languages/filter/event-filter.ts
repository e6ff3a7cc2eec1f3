/**
 * What writing an event's or a system's `filter` file does, as the kernel does it: parse, compile, and produce the
 * text the file reads back (the filter verbatim, or the filter followed by a caret line and `parse_error: ...`), the
 * errno, and error_log entries. Pure functions of their inputs: the caller (tracefs/engine wiring) stores the result
 * and publishes the compiled predicate to the emitting threads.
 */

import type { EventDescriptor } from '../../record.js';
import { stripTrailing } from '../cstring.js';
import { EINVAL } from '../errno.js';
import type { ErrorLogSink } from '../error-sink.js';
import { cutAtNul } from '../normalize.js';
import { type CompiledFilter, compileFilter } from './compile.js';
import { fieldTable } from './fields.js';
import { FILTER_ERRORS, type FilterParseError, type FilterProgram, parseFilter } from './parse.js';

/** The error_log location string of every filter error. */
export const FILTER_ERROR_LOCATION = 'event filter parse error';

/** What `events/SYS/filter` shows when no system filter error is stored. */
export const DEFAULT_SYS_FILTER_MESSAGE =
  '### global filter ###\n' +
  '# Use this to set filters for multiple events.\n' +
  '# Only events with the given fields will be affected.\n' +
  '# If no events are modified, an error message will be displayed here';

export interface FilterState {
  /** The stored filter string (read back followed by "\n"); undefined = no filter (reads "none"). */
  readonly text: string | undefined;
  /** The active filter; undefined = record everything (no filter, or a rejected one). */
  readonly filter: CompiledFilter | undefined;
  readonly program: FilterProgram | undefined;
}

export interface FilterWriteResult {
  /** 0 on success, else the errno the write answers. */
  readonly errno: number;
  readonly state: FilterState;
}

export const NO_FILTER: FilterState = Object.freeze({ text: undefined, filter: undefined, program: undefined });

/** Content of an event `filter` file. */
export function readEventFilter(state: FilterState): string {
  return state.text === undefined ? 'none\n' : `${state.text}\n`;
}

/** Content of a system `filter` file: the stored error text or the default message. */
export function readSystemFilter(text: string | undefined): string {
  return `${text ?? DEFAULT_SYS_FILTER_MESSAGE}\n`;
}

/** append_filter_err(): the filter, a caret under the error and the message (or the kernel's bare errno line). */
export function filterErrorText(filter: string, err: Pick<FilterParseError, 'message' | 'pos'>): string {
  if (err.message === undefined) return `${filter}\nError: (0)\n`;
  let pos = Math.min(err.pos, filter.length);
  if (pos) pos++;
  const caret = pos === 0 ? '^' : `${' '.repeat(pos - 1)}^`;
  return `${filter}\n${caret}\nparse_error: ${err.message}\n`;
}

/** Logs a filter error the way the kernel's append_filter_err() does. */
export function logFilterError(log: ErrorLogSink, filter: string, err: Pick<FilterParseError, 'message' | 'pos'>) {
  if (err.message === undefined) log.add(FILTER_ERROR_LOCATION, FILTER_ERRORS.ERRNO, filter, 0);
  else log.add(FILTER_ERROR_LOCATION, err.message, filter, err.pos);
}

/** True when the written text means "clear the filter" (`0`, surrounding whitespace allowed). */
export function isClearRequest(input: string): boolean {
  return stripTrailing(input).trimStart() === '0';
}

/**
 * Compiles a filter for one event without touching any file state (trigger filters use this). On error the
 * error is logged and returned.
 */
export function compileEventFilter(
  event: EventDescriptor,
  text: string,
  log: ErrorLogSink,
): { ok: true; program: FilterProgram; filter: CompiledFilter } | { ok: false; error: FilterParseError } {
  const r = parseFilter(text, fieldTable(event));
  if (!r.ok) {
    logFilterError(log, text, r.error);
    return r;
  }
  return { ok: true, program: r.program, filter: compileFilter(r.program, event) };
}

/** A write to `events/SYS/EV/filter`. A rejected filter replaces (and disables) the previous one, as in the kernel. */
export function writeEventFilter(event: EventDescriptor, input: string, log: ErrorLogSink): FilterWriteResult {
  // The kernel sees the written bytes as a C string.
  const text = stripTrailing(cutAtNul(input));
  if (text.trimStart() === '0') return { errno: 0, state: NO_FILTER };
  const r = compileEventFilter(event, text, log);
  if (!r.ok) {
    return {
      errno: r.error.errno,
      state: { text: filterErrorText(text, r.error), filter: undefined, program: undefined },
    };
  }
  return { errno: 0, state: { text, filter: r.filter, program: r.program } };
}

export interface SystemFilterWriteResult {
  readonly errno: number;
  /** What the system `filter` file stores afterwards (undefined = the default message). */
  readonly systemText: string | undefined;
  /** The new filter state of every event of the system (all of them are replaced, as in the kernel). */
  readonly events: ReadonlyMap<EventDescriptor, FilterState>;
}

/**
 * A write to `events/SYS/filter`: the filter is set on every event of the system; events where it does not parse
 * (typically: they lack a field) get a disabled filter whose text shows "Couldn't find or set field in one of a
 * subsystem's events" — so they keep recording everything — and one error_log entry each.
 */
export function writeSystemFilter(
  events: readonly EventDescriptor[],
  input: string,
  log: ErrorLogSink,
): SystemFilterWriteResult {
  const text = stripTrailing(cutAtNul(input));
  const out = new Map<EventDescriptor, FilterState>();
  if (text.trimStart() === '0') {
    for (const ev of events) out.set(ev, NO_FILTER);
    return { errno: 0, systemText: undefined, events: out };
  }
  const bad = { message: FILTER_ERRORS.BAD_SUBSYS_FILTER, pos: 0 };
  if (events.length === 0) {
    logFilterError(log, text, bad);
    return { errno: EINVAL, systemText: filterErrorText(text, bad), events: out };
  }
  for (const ev of events) {
    const r = parseFilter(text, fieldTable(ev));
    if (r.ok) out.set(ev, { text, filter: compileFilter(r.program, ev), program: r.program });
    else {
      logFilterError(log, text, bad);
      out.set(ev, { text: filterErrorText(text, bad), filter: undefined, program: undefined });
    }
  }
  return { errno: 0, systemText: undefined, events: out };
}
