/**
 * Lazy subscriptions: a source is attached while any of its events is enabled in some instance, and detached when
 * the last one is disabled. The enable flags live in shared memory, so the check needs no message from the thread
 * that changed them: an unref'd timer reads them every `LAZY_PERIOD_MS` (each look: one shared-array load per
 * event, about 30 of them). From `echo 1 > enable` to the next recorded event: at most one period while the loop
 * is free (docs/NODE.md).
 */
import type { Source } from './source.js';

export const LAZY_PERIOD_MS = 100;

export class LazySources {
  private readonly attached = new Set<Source>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sources: readonly Source[],
    private readonly onTick: () => void = () => {},
  ) {}

  /** Attaches/detaches what the enable flags say now. */
  check(): void {
    for (const s of this.sources) {
      const want = s.events.some((e) => e.enabled);
      if (want === this.attached.has(s)) continue;
      try {
        if (want) s.attach();
        else s.detach();
      } catch {
        continue; // tried again at the next look
      }
      if (want) this.attached.add(s);
      else this.attached.delete(s);
    }
  }

  start(): void {
    if (this.timer) return;
    this.check();
    this.onTick();
    this.timer = setInterval(() => {
      this.check();
      this.onTick();
    }, LAZY_PERIOD_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const s of this.attached) s.detach();
    this.attached.clear();
  }
}
