/**
 * The main thread's heartbeat, in shared memory: [0] the time of its last beat, [1] the period it beats at (ms, on
 * the `performance.timeOrigin + performance.now()` clock every thread shares). The loop watcher reads both; a beat
 * later than threshold + period means the event loop made no progress.
 */
export const BEAT_AT = 0;
export const BEAT_PERIOD = 1;

export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export class Heartbeat {
  readonly buffer = new SharedArrayBuffer(16);
  private readonly words = new Float64Array(this.buffer);

  beat(periodMs: number): void {
    // Aligned 8-byte stores are not torn on the platforms Node runs on; no atomicity beyond that is needed.
    this.words[BEAT_PERIOD] = periodMs;
    this.words[BEAT_AT] = nowMs();
  }
}
