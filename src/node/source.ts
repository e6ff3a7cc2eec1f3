/**
 * A source of Node's own events: a diagnostics_channel subscription (or an observer) that feeds one or more ntrace
 * events. Sources are attached only while one of their events is enabled somewhere (see lazy.ts): a channel nobody
 * subscribes to costs Node's publisher nothing.
 */
import dc from 'node:diagnostics_channel';
import type { TraceEvent } from '../trace/index.js';

export interface Source {
  /** For docs and tests: the channel names or observer it uses. */
  readonly name: string;
  /** The events it feeds: attached while any of them is enabled. */
  readonly events: readonly TraceEvent[];
  attach(): void;
  detach(): void;
}

/** One handler per channel name; all subscribed together. */
export function channelSource(
  events: readonly TraceEvent[],
  handlers: Readonly<Record<string, (message: unknown) => void>>,
): Source {
  // Never let a tracing bug throw into the publisher (the application's code path).
  const safe = Object.entries(handlers).map(([name, fn]) => {
    const wrapped = (message: unknown) => {
      try {
        fn(message);
      } catch {}
    };
    return [name, wrapped] as const;
  });
  return {
    name: Object.keys(handlers).join(', '),
    events,
    attach() {
      for (const [name, fn] of safe) dc.subscribe(name, fn);
    },
    detach() {
      for (const [name, fn] of safe) dc.unsubscribe(name, fn);
    },
  };
}

/**
 * Start times of exchanges (a request, a fetch) live on the publisher's own object under a symbol of ours: one
 * property store, where a WeakMap entry cost ~170 ns more per request in a server (bench:node:publish).
 */
const STARTED = Symbol('ntrace.started');
type Startable = { [STARTED]?: bigint };

/** Notes now as the start of `exchange`. */
export function markStart(exchange: object): void {
  (exchange as Startable)[STARTED] = process.hrtime.bigint();
}

/** Nanoseconds since `markStart(exchange)` (0 if it was not marked). */
export function sinceStart(exchange: object): bigint {
  return since((exchange as Startable)[STARTED]);
}

/** Nanoseconds between two process.hrtime.bigint() readings, as a u64 field takes it. */
export function since(start: bigint | undefined): bigint {
  return start === undefined ? 0n : process.hrtime.bigint() - start;
}

/** A string field from anything (undefined → ''). */
export function str(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

/** The text of an error, short. */
export function errorText(e: unknown): string {
  if (e instanceof Error)
    return (e as NodeJS.ErrnoException).code ? `${(e as NodeJS.ErrnoException).code}: ${e.message}` : e.message;
  return str(e);
}

/** Is this Node at least `major.minor`? */
export function nodeAtLeast(major: number, minor = 0): boolean {
  const [M, m] = process.versions.node.split('.').map(Number);
  return M > major || (M === major && m >= minor);
}
