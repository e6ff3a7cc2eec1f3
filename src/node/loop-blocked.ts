/**
 * `node_runtime:loop_blocked` for the main thread: the lazy timer beats the heartbeat every LAZY_PERIOD_MS; while the
 * event is enabled this source beats it every FAST_BEAT_MS too, so a stall is noticed within threshold + 10 ms. The
 * watcher thread (loop-watcher.ts) starts at once, not lazily: it must be able to catch a loop that is already stuck
 * when someone enables the event — the moment people look.
 */
import { Worker } from 'node:worker_threads';
import { Heartbeat } from './heartbeat.js';
import { LAZY_PERIOD_MS } from './lazy.js';
import type { LoopWatcherData } from './loop-watcher.js';
import { defineLoopBlocked } from './runtime.js';
import type { Source } from './source.js';

export const FAST_BEAT_MS = 10;
export const DEFAULT_THRESHOLD_MS = 100;

/** NTRACE_LOOP_BLOCKED_MS, else 100 ms. */
export function loopBlockedThreshold(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.NTRACE_LOOP_BLOCKED_MS);
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_THRESHOLD_MS;
}

export interface LoopWatch {
  readonly source: Source;
  /** The lazy timer's beat. */
  beat(): void;
  stop(): Promise<void>;
}

export function startLoopWatch(thresholdMs = loopBlockedThreshold()): LoopWatch {
  const heartbeat = new Heartbeat();
  let fast: NodeJS.Timeout | undefined;
  let fastOn = false;
  heartbeat.beat(LAZY_PERIOD_MS);
  const data: LoopWatcherData = { heartbeat: heartbeat.buffer, thresholdMs };
  const worker = new Worker(new URL('./loop-watcher.js', import.meta.url), {
    workerData: data,
    // Not the application's thread: it must not load what --import/--require load into the app's workers.
    execArgv: [],
  });
  worker.on('error', () => {});
  worker.unref();
  return {
    source: {
      name: 'loop watcher heartbeat',
      events: [defineLoopBlocked()],
      attach() {
        fastOn = true;
        heartbeat.beat(FAST_BEAT_MS);
        fast = setInterval(() => heartbeat.beat(FAST_BEAT_MS), FAST_BEAT_MS);
        fast.unref();
      },
      detach() {
        fastOn = false;
        clearInterval(fast);
        heartbeat.beat(LAZY_PERIOD_MS);
      },
    },
    beat() {
      heartbeat.beat(fastOn ? FAST_BEAT_MS : LAZY_PERIOD_MS);
    },
    async stop() {
      clearInterval(fast);
      await worker.terminate();
    },
  };
}
