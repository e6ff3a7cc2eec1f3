/**
 * node_runtime: garbage collections (a `gc` PerformanceObserver) and event-loop delay (`monitorEventLoopDelay`),
 * each running only while its event is enabled. `loop_blocked` is defined here and recorded by the loop watcher
 * thread (loop-watcher.ts).
 */
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { defineEvent } from '../trace/index.js';
import type { Source } from './source.js';

/** Period of one `loop_delay` record. */
export const LOOP_DELAY_PERIOD_MS = 1000;
/** Sampling resolution of `monitorEventLoopDelay`. */
const LOOP_DELAY_RESOLUTION_MS = 10;

const GC_KINDS = new Map<number, string>([
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
]);

let loopBlocked: ReturnType<typeof defineLoopBlockedOnce> | undefined;

/** `node_runtime:loop_blocked`, defined once per thread (the watcher thread defines the same event). */
export function defineLoopBlocked() {
  loopBlocked ??= defineLoopBlockedOnce();
  return loopBlocked;
}

function defineLoopBlockedOnce() {
  return defineEvent(
    'node_runtime',
    'loop_blocked',
    { duration_ns: 'u64', still_blocked: 'bool' },
    { print: 'duration_ns=%llu still_blocked=%u' },
  );
}

export function runtimeSources(): Source[] {
  const gc = defineEvent(
    'node_runtime',
    'gc',
    { kind: 'string', duration_ns: 'u64' },
    { print: 'kind=%s duration_ns=%llu' },
  );
  const loopDelay = defineEvent(
    'node_runtime',
    'loop_delay',
    { min_ns: 'u64', mean_ns: 'u64', max_ns: 'u64', p99_ns: 'u64', period_ms: 'u32' },
    { print: 'min_ns=%llu mean_ns=%llu max_ns=%llu p99_ns=%llu period_ms=%u' },
  );
  let observer: PerformanceObserver | undefined;
  let histogram: ReturnType<typeof monitorEventLoopDelay> | undefined;
  let timer: NodeJS.Timeout | undefined;
  return [
    {
      name: 'perf_hooks gc observer',
      events: [gc],
      attach() {
        observer = new PerformanceObserver((list) => {
          if (!gc.enabled) return;
          for (const e of list.getEntries()) {
            const kind = (e as { detail?: { kind?: number } }).detail?.kind ?? -1;
            gc.emit({ kind: GC_KINDS.get(kind) ?? String(kind), duration_ns: BigInt(Math.round(e.duration * 1e6)) });
          }
        });
        observer.observe({ entryTypes: ['gc'] });
      },
      detach() {
        observer?.disconnect();
        observer = undefined;
      },
    },
    {
      name: 'perf_hooks monitorEventLoopDelay',
      events: [loopDelay],
      attach() {
        const h = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
        h.enable();
        histogram = h;
        timer = setInterval(() => {
          if (loopDelay.enabled && h.count > 0)
            loopDelay.emit({
              min_ns: h.min,
              mean_ns: Math.round(h.mean),
              max_ns: h.max,
              p99_ns: h.percentile(99),
              period_ms: LOOP_DELAY_PERIOD_MS,
            });
          h.reset();
        }, LOOP_DELAY_PERIOD_MS);
        timer.unref();
      },
      detach() {
        histogram?.disable();
        histogram = undefined;
        clearInterval(timer);
      },
    },
  ];
}
