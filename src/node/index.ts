/**
 * Node's own events as ntrace events: `startNodeEvents()` defines node_http, node_fetch, node_net, node_dgram,
 * node_process and node_runtime (those whose source this Node version publishes) in the calling thread, and keeps
 * each diagnostics_channel subscription or observer attached only while one of its events is enabled. Every thread
 * that wants its own events recorded calls it (`ntrace/register` does, in each thread). Uses the engine's public
 * surface only; knows nothing of filesystems.
 */
import { isMainThread } from 'node:worker_threads';
import { consoleSources } from './console.js';
import { fetchSources } from './fetch.js';
import { httpSources } from './http.js';
import { LazySources } from './lazy.js';
import { type LoopWatch, startLoopWatch } from './loop-blocked.js';
import { moduleSources } from './modules.js';
import { netSources } from './net.js';
import { processSources } from './process.js';
import { runtimeSources } from './runtime.js';
import type { Source } from './source.js';

export { LAZY_PERIOD_MS } from './lazy.js';
export type { Source } from './source.js';

export interface NodeEventsOptions {
  /**
   * Watch this thread's event loop from another thread for `node_runtime:loop_blocked`. Default: in the main thread.
   */
  watchLoop?: boolean;
  /** Stall threshold for loop_blocked, ms (default NTRACE_LOOP_BLOCKED_MS or 100). */
  loopBlockedMs?: number;
}

export interface NodeEvents {
  readonly sources: readonly Source[];
  /** Attaches/detaches now rather than at the next timer tick. */
  check(): void;
  stop(): Promise<void>;
}

let running: NodeEvents | undefined;
/** Events are defined once per thread (a second definition in one thread is a duplicate). */
let defined: Source[] | undefined;

/** Starts Node's events in this thread (once; later calls return the same handle). */
export function startNodeEvents(options: NodeEventsOptions = {}): NodeEvents {
  if (running) return running;
  defined ??= [
    ...httpSources(),
    ...fetchSources(),
    ...netSources(),
    ...processSources(),
    ...moduleSources(),
    ...consoleSources(),
    ...runtimeSources(),
  ];
  const sources = [...defined];
  let watch: LoopWatch | undefined;
  if (options.watchLoop ?? isMainThread) {
    watch = startLoopWatch(options.loopBlockedMs);
    sources.push(watch.source);
  }
  const lazy = new LazySources(sources, () => watch?.beat());
  lazy.start();
  const handle: NodeEvents = {
    sources,
    check: () => lazy.check(),
    async stop() {
      lazy.stop();
      await watch?.stop();
      running = undefined;
    },
  };
  running = handle;
  return handle;
}
