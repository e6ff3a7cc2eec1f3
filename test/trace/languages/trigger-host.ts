/**
 * A fake instance for trigger tests: events with the kernel's enable flags, tracing_on, snapshot and stack sinks.
 * Its `emit` fires a trigger set the way the control plane's runtime does: the set's published specs made ready
 * with `toFiring` and run by `fireTriggers` (the production firer) against this instance's actions.
 */
import type { EmitContext, Values } from '../../../src/trace/languages/filter/evaluate.js';
import { HistTrigger, type HistTriggerData } from '../../../src/trace/languages/hist/hist-trigger.js';
import { fireTriggers, type TriggerActions, toFiring } from '../../../src/trace/languages/trigger/fire.js';
import {
  type EnableFlags,
  enableDisable,
  enableText,
  isRecording,
  newEnableFlags,
} from '../../../src/trace/languages/trigger/soft-enable.js';
import type { TriggerSet } from '../../../src/trace/languages/trigger/trigger-set.js';
import type { TriggerControl } from '../../../src/trace/languages/trigger/types.js';

export class FakeInstance implements TriggerControl, TriggerActions {
  tracingOn = true;
  snapshots = 0;
  stacks: string[] = [];
  recorded: string[] = [];
  readonly flags = new Map<string, EnableFlags>();
  /** Trigger sets by `sys:event`, for enable_hist/disable_hist targets. */
  readonly sets = new Map<string, TriggerSet>();
  /** Event keys by the number the actions name them with (index + 1; 0 is "gone"). */
  private readonly keys: string[];

  constructor(events: string[]) {
    this.keys = events;
    for (const e of events) this.flags.set(e, newEnableFlags());
  }
  private f(system: string, event: string): EnableFlags {
    const f = this.flags.get(`${system}:${event}`);
    if (!f) throw new Error(`no event ${system}:${event}`);
    return f;
  }
  private key(target: number): string {
    return this.keys[target - 1];
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
  setTracingOn(on: boolean): void {
    this.tracingOn = on;
  }
  snapshot(): void {
    this.snapshots++;
  }
  stacktrace(frames: string[]): void {
    this.stacks.push(frames.map((f) => ` => ${f}`).join('\n'));
  }
  isRecording(target: number): boolean {
    return !this.flags.get(this.key(target))!.softDisabled;
  }
  setRecording(target: number, on: boolean): void {
    this.flags.get(this.key(target))!.softDisabled = !on;
  }
  setHistPaused(target: number, paused: boolean): void {
    this.sets.get(this.key(target))?.setHistPaused(paused);
  }

  /** Fires a trigger set as the control plane's runtime does, from its published specs. */
  fire(triggers: TriggerSet, values: Values, ctx: EmitContext): void {
    const firing = triggers.toSpecs().map((s) => {
      const target = s.target ? this.keys.indexOf(`${s.target.system}:${s.target.event}`) + 1 : 0;
      const hist = s.hist !== undefined ? HistTrigger.fromSpec(triggers.event, s.hist as HistTriggerData) : undefined;
      const spec = { cmd: s.cmd, ...(s.filterText !== undefined ? { filter: s.filterText } : {}) };
      return toFiring(triggers.event, spec, new BigInt64Array(s.count), 0, target, hist);
    });
    fireTriggers(firing, values, ctx, this);
  }

  /** What the engine does on emit: unconditional triggers first, the record if recording and on, the rest after. */
  emit(key: string, triggers: TriggerSet | undefined, values: Values, ctx: EmitContext): void {
    const fl = this.flags.get(key)!;
    if (!fl.enabled) return;
    const cond = triggers?.conditional ?? false;
    if (triggers && !cond) this.fire(triggers, values, ctx);
    if (isRecording(fl) && this.tracingOn) this.recorded.push(key);
    if (triggers && cond) this.fire(triggers, values, ctx);
  }
}
