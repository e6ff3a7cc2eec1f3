/**
 * What a trigger set talks to on the control side (filesystem thread, when `trigger` is written): find events and
 * take/release soft mode on them. The firing side's actions are in fire.ts.
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
