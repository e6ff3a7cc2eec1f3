/**
 * The loop watcher thread: notices, from outside, that the main thread's event loop stopped beating (heartbeat.ts)
 * and records `node_runtime:loop_blocked` while the loop is still stuck, then again with the whole duration when
 * it beats again. It sleeps in Atomics.wait: 10 ms between looks while the event is enabled, 100 ms otherwise.
 */
import { workerData } from 'node:worker_threads';
import { setThreadName } from '../trace/index.js';
import { BEAT_AT, BEAT_PERIOD, nowMs } from './heartbeat.js';
import { defineLoopBlocked } from './runtime.js';

export interface LoopWatcherData {
  heartbeat: SharedArrayBuffer;
  thresholdMs: number;
}

const { heartbeat, thresholdMs } = workerData as LoopWatcherData;
setThreadName('loop-watch');
const blocked = defineLoopBlocked();
const beat = new Float64Array(heartbeat);
const sleep = new Int32Array(new SharedArrayBuffer(4));
/** The last beat before the stall we reported, or 0. */
let stalledAfter = 0;

for (;;) {
  Atomics.wait(sleep, 0, 0, blocked.enabled || stalledAfter !== 0 ? 10 : 100);
  const last = beat[BEAT_AT];
  if (stalledAfter === 0) {
    const gap = nowMs() - last;
    if (last > 0 && gap > thresholdMs + beat[BEAT_PERIOD] && blocked.enabled) {
      stalledAfter = last;
      blocked.emit({ duration_ns: BigInt(Math.round(gap * 1e6)), still_blocked: true });
    }
  } else if (last !== stalledAfter) {
    blocked.emit({ duration_ns: BigInt(Math.round((last - stalledAfter) * 1e6)), still_blocked: false });
    stalledAfter = 0;
  }
}
