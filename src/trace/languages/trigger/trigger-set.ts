/**
 * The triggers of one event in one instance (`events/S/E/trigger`), with the kernel's rules
 * (trace_events_trigger.c): one trigger per type per event (traceon and traceoff share a type; enable_event and
 * disable_event share one per target event; several hist triggers may coexist), `!cmd` removes (and succeeds when
 * there is nothing to remove), read-back newest first with `:unlimited` / `:count=N` and ` if <filter>`.
 *
 * Each trigger's count lives in a SharedArrayBuffer cell; `toSpecs()` hands the set to the control plane, which
 * publishes it for the emitting threads (fire.ts fires them there).
 */
import type { EventDescriptor } from '../../record.js';
import { isDigit, kstrtoull, strim } from '../cstring.js';
import { EEXIST, EINVAL, ENOENT } from '../errno.js';
import type { ErrorLogSink } from '../error-sink.js';
import type { CompiledFilter } from '../filter/compile.js';
import type { EmitContext, Values } from '../filter/evaluate.js';
import { compileEventFilter } from '../filter/event-filter.js';
import type { TriggerControl } from './types.js';

export type TriggerCommand =
  | 'traceon'
  | 'traceoff'
  | 'snapshot'
  | 'stacktrace'
  | 'enable_event'
  | 'disable_event'
  | 'enable_hist'
  | 'disable_hist'
  | 'hist';

/** Registration order of the kernel's commands: the `# Available triggers:` line lists them in this order. */
export const TRIGGER_COMMANDS: readonly TriggerCommand[] = [
  'traceon',
  'traceoff',
  'snapshot',
  'stacktrace',
  'enable_event',
  'disable_event',
  'enable_hist',
  'disable_hist',
  'hist',
];

export const AVAILABLE_TRIGGERS_TEXT = `# Available triggers:\n# ${TRIGGER_COMMANDS.join(' ')}\n`;

/** The kernel's trigger types: commands of one type exclude each other on an event. */
const TYPE: Record<TriggerCommand, string> = {
  traceon: 'onoff',
  traceoff: 'onoff',
  snapshot: 'snapshot',
  stacktrace: 'stacktrace',
  enable_event: 'enable',
  disable_event: 'enable',
  enable_hist: 'hist-enable',
  disable_hist: 'hist-enable',
  hist: 'hist',
};

/** A hist trigger as the trigger set sees it; implemented by the hist module. */
export interface HistTriggerHandle {
  /** The read-back line without the newline (`hist:keys=...:size=2048 [active]` and the ` if` part). */
  describe(): string;
  /** Same histogram definition (keys, vals, sort, size, name, filter) — the kernel's EEXIST / removal match. */
  sameAs(other: HistTriggerHandle): boolean;
  update(values: Values, ctx: EmitContext): void;
  /** Called when the trigger is removed. */
  release(): void;
  /** enable_hist / disable_hist (shared: every thread's view of the table sees it). */
  setPaused(paused: boolean): void;
  /** :pause / :cont / :clear applied to an existing trigger. */
  readonly command: 'add' | 'pause' | 'cont' | 'clear';
  /** error_log location and command for EEXIST / ENOENT answers about this trigger. */
  readonly errorLocation: string;
  readonly errorCommand: string;
  applyCommandTo(existing: HistTriggerHandle): void;
  readonly filter: CompiledFilter | undefined;
  readonly spec: unknown;
}

/** Parses a `hist:...` trigger; errors are logged by the factory and returned as an errno. */
export type HistTriggerFactory = (
  event: EventDescriptor,
  /** The text after `hist:` (attributes and ` if <filter>`), undefined when there is none. */
  param: string | undefined,
  remove: boolean,
  log: ErrorLogSink,
) => { ok: true; trigger: HistTriggerHandle } | { ok: false; errno: number };

export interface TriggerSpec {
  readonly cmd: TriggerCommand;
  /** One BigInt64 cell: remaining count, -1 = unlimited. */
  readonly count: SharedArrayBuffer;
  readonly filterText: string | undefined;
  readonly target: { readonly system: string; readonly event: string } | undefined;
  readonly hist: unknown;
}

interface Trigger {
  readonly cmd: TriggerCommand;
  readonly count: BigInt64Array;
  readonly filterText: string | undefined;
  readonly filter: CompiledFilter | undefined;
  readonly target: { readonly system: string; readonly event: string } | undefined;
  readonly hist: HistTriggerHandle | undefined;
}

function newCount(v: bigint): BigInt64Array {
  const a = new BigInt64Array(new SharedArrayBuffer(8));
  a[0] = v;
  return a;
}

function countSuffix(cell: BigInt64Array): string {
  const c = Atomics.load(cell, 0);
  return c === -1n ? ':unlimited' : `:count=${c}`;
}

export class TriggerSet {
  /** Newest first, as the kernel lists them. */
  private triggers: Trigger[] = [];

  constructor(
    readonly event: EventDescriptor,
    private readonly hist?: HistTriggerFactory,
  ) {}

  get size(): number {
    return this.triggers.length;
  }

  /**
   * True when the set must run after the record is written (some trigger has a filter or is a stacktrace, snapshot
   * or hist): the kernel's TRIGGER_COND. Otherwise triggers run before the record is written — so an unconditional
   * `traceoff` keeps its own event out of the buffer, as in the kernel.
   */
  get conditional(): boolean {
    return this.triggers.some((t) => t.filter !== undefined || t.cmd === 'stacktrace' || t.cmd === 'hist');
  }

  /** Content of the `trigger` file. */
  read(): string {
    if (this.triggers.length === 0) return AVAILABLE_TRIGGERS_TEXT;
    let s = '';
    for (const t of this.triggers) {
      if (t.hist) {
        s += `${t.hist.describe()}\n`;
        continue;
      }
      let line: string = t.cmd;
      if (t.target) line += `:${t.target.system}:${t.target.event}`;
      line += countSuffix(t.count);
      if (t.filterText !== undefined) line += ` if ${t.filterText}`;
      s += `${line}\n`;
    }
    return s;
  }

  /** A write to the `trigger` file (one command). Returns 0 or the errno. */
  write(input: string, control: TriggerControl, log: ErrorLogSink): number {
    // A zero-length write does nothing (and succeeds); anything else, even blanks, is parsed.
    if (input.length === 0) return 0;
    const buff = strim(input.includes('\0') ? input.slice(0, input.indexOf('\0')) : input);
    let cut = buff.length;
    for (let i = 0; i < buff.length; i++) {
      const c = buff[i];
      if (c === ':' || c === ' ' || c === '\t') {
        cut = i;
        break;
      }
    }
    let command = buff.slice(0, cut);
    let next: string | undefined = cut < buff.length ? buff.slice(cut + 1) : undefined;
    if (next !== undefined) {
      next = next.replace(/^[ \t\n\v\f\r]+/, '');
      if (next === '') next = undefined;
    }
    const remove = command.startsWith('!');
    if (remove) command = command.slice(1);
    if (!(TRIGGER_COMMANDS as readonly string[]).includes(command)) return EINVAL;
    const cmd = command as TriggerCommand;
    if (cmd === 'hist') return this.writeHist(next, remove, control, log);
    if (cmd === 'enable_event' || cmd === 'disable_event' || cmd === 'enable_hist' || cmd === 'disable_hist') {
      return this.writeEnable(cmd, next, remove, control, log);
    }
    return this.writeSimple(cmd, next, remove, control, log);
  }

  private writeSimple(
    cmd: TriggerCommand,
    next: string | undefined,
    remove: boolean,
    control: TriggerControl,
    log: ErrorLogSink,
  ): number {
    let param: string | undefined;
    let filter: string | undefined;
    if (next !== undefined) {
      if (!isDigit(next[0])) filter = next;
      else [param, filter] = splitParam(next);
    }
    if (remove) {
      this.removeWhere((t) => TYPE[t.cmd] === TYPE[cmd], control);
      return 0;
    }
    const count = parseCount(param);
    if (count === undefined) return EINVAL;
    const f = this.parseFilter(filter, log);
    if (typeof f === 'number') return f;
    if (this.triggers.some((t) => TYPE[t.cmd] === TYPE[cmd])) return EEXIST;
    this.add(
      { cmd, count: newCount(count), filterText: f?.text, filter: f?.filter, target: undefined, hist: undefined },
      control,
    );
    return 0;
  }

  private writeEnable(
    cmd: TriggerCommand,
    next: string | undefined,
    remove: boolean,
    control: TriggerControl,
    log: ErrorLogSink,
  ): number {
    if (next === undefined) return EINVAL;
    let [param, filter] = splitParam(next);
    const c1 = param.indexOf(':');
    if (c1 < 0) return EINVAL;
    const system = param.slice(0, c1);
    param = param.slice(c1 + 1);
    const c2 = param.indexOf(':');
    const event = c2 < 0 ? param : param.slice(0, c2);
    const rest = c2 < 0 ? undefined : param.slice(c2 + 1);
    if (!control.eventExists(system, event)) return EINVAL;
    const sameTarget = (t: Trigger) =>
      TYPE[t.cmd] === TYPE[cmd] && t.target?.system === system && t.target.event === event;
    if (remove) {
      this.removeWhere(sameTarget, control);
      return 0;
    }
    const count = parseCount(rest);
    if (count === undefined) return EINVAL;
    const f = this.parseFilter(filter, log);
    if (typeof f === 'number') return f;
    if (this.triggers.some(sameTarget)) return EEXIST;
    control.softEnable(system, event, true);
    this.add(
      {
        cmd,
        count: newCount(count),
        filterText: f?.text,
        filter: f?.filter,
        target: { system, event },
        hist: undefined,
      },
      control,
    );
    return 0;
  }

  private writeHist(next: string | undefined, remove: boolean, control: TriggerControl, log: ErrorLogSink): number {
    if (!this.hist) return EINVAL;
    const r = this.hist(this.event, next, remove, log);
    if (!r.ok) return r.errno;
    const h = r.trigger;
    const existing = this.triggers.find((t) => t.hist?.sameAs(h));
    if (remove) {
      h.release();
      if (existing) this.removeWhere((t) => t === existing, control);
      return 0;
    }
    if (existing) {
      h.release();
      if (h.command !== 'add') {
        h.applyCommandTo(existing.hist!);
        return 0;
      }
      log.add(h.errorLocation, 'Hist trigger already exists', h.errorCommand, 0);
      return EEXIST;
    }
    if (h.command === 'cont' || h.command === 'clear') {
      h.release();
      log.add(h.errorLocation, "Can't clear or continue a nonexistent hist trigger", h.errorCommand, 0);
      return ENOENT;
    }
    // `pause` on a new trigger creates it paused.
    if (h.command === 'pause') h.applyCommandTo(h);
    this.add(
      { cmd: 'hist', count: newCount(-1n), filterText: undefined, filter: h.filter, target: undefined, hist: h },
      control,
    );
    return 0;
  }

  /** What an enable_hist/disable_hist trigger targeting this event does. */
  setHistPaused(paused: boolean): void {
    for (const t of this.triggers) t.hist?.setPaused(paused);
  }

  /** The hist triggers, newest first (what the `hist` file shows). */
  histTriggers(): HistTriggerHandle[] {
    return this.triggers.filter((t) => t.hist !== undefined).map((t) => t.hist!);
  }

  /** O_TRUNC on the trigger file: the kernel removes hist triggers only (hist is its one `unreg_all` command). */
  truncate(control: TriggerControl): void {
    this.removeWhere((t) => t.cmd === 'hist', control);
  }

  /** Removes every trigger (event or instance going away), as the kernel's clear_event_triggers. */
  clear(control: TriggerControl): void {
    this.removeWhere(() => true, control);
  }

  private parseFilter(
    filter: string | undefined,
    log: ErrorLogSink,
  ): { text: string; filter: CompiledFilter } | undefined | number {
    if (filter === undefined) return undefined;
    const m = /^([^ \t]*)[ \t]?/.exec(filter)!;
    if (m[1] !== 'if' || m[0].length === m[1].length) return EINVAL;
    const text = filter.slice(m[0].length);
    const r = compileEventFilter(this.event, text, log);
    if (!r.ok) return r.error.errno;
    return { text, filter: r.filter };
  }

  private add(t: Trigger, control: TriggerControl): void {
    this.triggers.unshift(t);
    if (this.triggers.length === 1) control.softEnable(this.event.system, this.event.name, true);
  }

  private removeWhere(pred: (t: Trigger) => boolean, control: TriggerControl): void {
    const keep: Trigger[] = [];
    const gone: Trigger[] = [];
    // Every match goes: `!cmd` can match at most one trigger (EEXIST keeps one per type/target), while clear()
    // — the kernel's clear_event_triggers — and truncate() must drop all of theirs.
    for (const t of this.triggers) {
      if (pred(t)) gone.push(t);
      else keep.push(t);
    }
    if (gone.length === 0) return;
    const hadAny = this.triggers.length > 0;
    this.triggers = keep;
    for (const t of gone) {
      if (t.target) control.softEnable(t.target.system, t.target.event, false);
      t.hist?.release();
    }
    if (hadAny && keep.length === 0) control.softEnable(this.event.system, this.event.name, false);
  }

  /** Plain data for publishing the set to emitting threads (hist triggers carry their own shareable spec). */
  toSpecs(): TriggerSpec[] {
    return this.triggers.map((t) => ({
      cmd: t.cmd,
      count: t.count.buffer as SharedArrayBuffer,
      filterText: t.filterText,
      target: t.target,
      hist: t.hist?.spec,
    }));
  }
}

/** event_trigger_separate_filter() for a present parameter: `param[ \t]filter`. */
function splitParam(next: string): [string, string | undefined] {
  const m = /[ \t]/.exec(next);
  if (!m) return [next, undefined];
  const param = next.slice(0, m.index);
  const filter = next.slice(m.index + 1).replace(/^[ \t\n\v\f\r]+/, '');
  return [param, filter === '' ? undefined : filter];
}

/** event_trigger_parse_num(): `N[:anything]`, kstrtoul base 0; -1 (all ones) is "unlimited". */
function parseCount(param: string | undefined): bigint | undefined {
  if (param === undefined) return -1n;
  const number = param.split(':', 1)[0];
  if (number === '') return undefined;
  const v = kstrtoull(number);
  if (v === undefined) return undefined;
  return BigInt.asIntN(64, v);
}
