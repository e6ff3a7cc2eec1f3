/** A fake instance for trigger tests: events with the kernel's enable flags, tracing_on, snapshot and stack sinks. */
import type { EmitContext, Values } from '../../../src/trace/languages/filter/evaluate.js';
import {
  type EnableFlags,
  enableDisable,
  enableText,
  isRecording,
  newEnableFlags,
} from '../../../src/trace/languages/trigger/soft-enable.js';
import type { TriggerSet } from '../../../src/trace/languages/trigger/trigger-set.js';
import type { TriggerActions, TriggerControl } from '../../../src/trace/languages/trigger/types.js';

export class FakeInstance implements TriggerControl, TriggerActions {
  tracingOn = true;
  snapshots = 0;
  stacks: string[] = [];
  recorded: string[] = [];
  readonly flags = new Map<string, EnableFlags>();
  /** Trigger sets by `sys:event`, for enable_hist/disable_hist targets. */
  readonly sets = new Map<string, TriggerSet>();

  constructor(events: string[]) {
    for (const e of events) this.flags.set(e, newEnableFlags());
  }
  private f(system: string, event: string): EnableFlags {
    const f = this.flags.get(`${system}:${event}`);
    if (!f) throw new Error(`no event ${system}:${event}`);
    return f;
  }
  eventExists(system: string, event: string): boolean {
    return this.flags.has(`${system}:${event}`);
  }
  softEnable(system: string, event: string, enable: boolean): void {
    enableDisable(this.f(system, event), enable, true);
  }
  /** Writing 0/1 to the event's enable file. */
  setEnable(key: string, on: boolean): void {
    enableDisable(this.flags.get(key)!, on, false);
  }
  enableFile(key: string): string {
    return enableText(this.flags.get(key)!);
  }
  isTracingOn(): boolean {
    return this.tracingOn;
  }
  traceOn(): void {
    this.tracingOn = true;
  }
  traceOff(): void {
    this.tracingOn = false;
  }
  snapshot(): void {
    this.snapshots++;
  }
  stacktrace(stack: string): void {
    this.stacks.push(stack);
  }
  isSoftDisabled(system: string, event: string): boolean {
    return this.f(system, event).softDisabled;
  }
  setSoftDisabled(system: string, event: string, disabled: boolean): void {
    this.f(system, event).softDisabled = disabled;
  }
  setHistPaused(system: string, event: string, paused: boolean): void {
    this.sets.get(`${system}:${event}`)?.setHistPaused(paused);
  }

  /** What the engine does on emit: unconditional triggers first, the record if recording and on, the rest after. */
  emit(key: string, triggers: TriggerSet | undefined, values: Values, ctx: EmitContext): void {
    const fl = this.flags.get(key)!;
    if (!fl.enabled) return;
    const cond = triggers?.conditional ?? false;
    if (triggers && !cond) triggers.fire(values, ctx, this);
    if (isRecording(fl) && this.tracingOn) this.recorded.push(key);
    if (triggers && cond) triggers.fire(values, ctx, this);
  }
}
