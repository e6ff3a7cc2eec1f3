/**
 * The interfaces a trigger set talks to. Control side (filesystem thread, when `trigger` is written): find events
 * and take/release soft mode on them. Firing side (emitting thread, at emit): the actions a fired trigger performs.
 */

export interface TriggerControl {
  /** Whether `system:event` exists in this instance (enable_event/disable_event targets). */
  eventExists(system: string, event: string): boolean;
  /**
   * trace_event_enable_disable(file, enable, soft = 1): a trigger takes (`true`) or releases (`false`) soft mode on
   * an event. Called for the target of enable_event/disable_event, and for the triggering event itself when its
   * first trigger is added / last one removed (the kernel's trigger mode), so it shows `0*` and triggers fire.
   */
  softEnable(system: string, event: string, enable: boolean): void;
}

export interface TriggerActions {
  isTracingOn(): boolean;
  traceOn(): void;
  traceOff(): void;
  /** Take a snapshot of the instance's buffer (the `snapshot` file's `echo 1`). */
  snapshot(): void;
  /**
   * Record a `<stack trace>` entry with the emitting thread's JS stack. `stack` holds the frames, one per line,
   * formatted ` => <frame>` like the kernel's stack lines, innermost first, ntrace's own frames removed.
   */
  stacktrace(stack: string): void;
  isSoftDisabled(system: string, event: string): boolean;
  setSoftDisabled(system: string, event: string, disabled: boolean): void;
  /** enable_hist / disable_hist: resume or pause every hist trigger of the target event (its tables' pause flag). */
  setHistPaused(system: string, event: string, paused: boolean): void;
}
