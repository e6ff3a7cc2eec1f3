/**
 * Hist triggers of one instance: creation from `hist:` text (the HistTriggerFactory the trigger sets call), named
 * histograms shared across events, the emit-time update into the shared table, and the `hist` file.
 *
 * Threads: the registry lives with the control side (filesystem thread). A trigger's `spec` ({ spec, sab }) is plain
 * data plus a SharedArrayBuffer; `HistTrigger.fromSpec()` in an emitting thread attaches to the same table, and its
 * updates go to the region of `ctx.cpu` (one writer per region). `readHistFile()` can run in any thread.
 */
import type { EventDescriptor } from '../../record.js';
import { EINVAL, ENOMEM } from '../errno.js';
import type { ErrorLogSink } from '../error-sink.js';
import type { CompiledFilter } from '../filter/compile.js';
import type { EmitContext, Values } from '../filter/evaluate.js';
import { compileEventFilter } from '../filter/event-filter.js';
import type { HistTriggerHandle } from '../trigger/trigger-set.js';
import { formatHist } from './format.js';
import { hashKey, keyFieldBytes, modifiedU64, stringKeyValue, type U64, writeStringKey } from './key.js';
import {
  describeHist,
  HIST_ERRORS,
  type HistFieldSpec,
  type HistSpec,
  histErrorContext,
  parseHistTrigger,
  sameHist,
} from './spec.js';
import { HistTable, type HistTableShape, type HistWriter, histTableBytes } from './table.js';

/** Default number of writer regions per table: emitting threads with a larger ring index count as drops. */
export const DEFAULT_HIST_REGIONS = 64;

export interface HistTriggerData {
  readonly spec: HistSpec;
  readonly sab: SharedArrayBuffer;
  readonly shape: HistTableShape;
}

/** Address space one table may reserve: big tables (large `size=`, string keys) get fewer writer regions. */
export const HIST_TABLE_MAX_BYTES = 512 * 1024 * 1024;

/** The table shape `spec` needs, with one writer region. */
export function oneRegionShape(spec: HistSpec): HistTableShape {
  let keyBytes = 0;
  for (const k of spec.keys) keyBytes += keyFieldBytes(k);
  return {
    keyBytes,
    nSums: 1 + spec.vals.length,
    comm: spec.keys.some((k) => k.flag === 'execname'),
    maxEntries: 1 << spec.bits,
    regions: 1,
  };
}

function shapeOf(spec: HistSpec, regions: number): HistTableShape {
  const shape = oneRegionShape(spec);
  const one = histTableBytes(shape);
  return { ...shape, regions: Math.max(1, Math.min(regions, Math.floor(HIST_TABLE_MAX_BYTES / one))) };
}

/**
 * Where a trigger's table memory comes from; undefined when it is not available (the write answers ENOMEM).
 * `remove` asks for a table that is only compared with (a `!hist:...` write), never updated or published.
 */
export type HistTableAllocator = (spec: HistSpec, remove: boolean) => HistTable | undefined;

/** Tables in their own SharedArrayBuffer, with up to `regions` writer regions. */
export function plainHistTables(regions: number): HistTableAllocator {
  return (spec) => {
    try {
      return new HistTable(shapeOf(spec, regions));
    } catch {
      return undefined;
    }
  };
}

export class HistTrigger implements HistTriggerHandle {
  readonly command: 'add' | 'pause' | 'cont' | 'clear';
  /** error_log location and command of the write that created this handle (`hist:SYS:EV`, `hist:<text>`). */
  errorLocation = '';
  errorCommand = '';
  private readonly keyOffsets: number[];
  private readonly u64: U64 = { lo: 0, hi: 0 };
  private readonly valFields: readonly HistFieldSpec[];
  private readonly singleString: boolean;

  constructor(
    readonly event: EventDescriptor,
    readonly hist: HistSpec,
    readonly table: HistTable,
    readonly filter: CompiledFilter | undefined,
    private readonly onRelease: () => void = () => {},
  ) {
    this.command = hist.pause ? 'pause' : hist.cont ? 'cont' : hist.clear ? 'clear' : 'add';
    let at = 0;
    this.keyOffsets = hist.keys.map((k) => {
      const o = at;
      at += keyFieldBytes(k);
      return o;
    });
    this.valFields = hist.vals;
    this.singleString = hist.keys.length === 1 && hist.keys[0].string !== undefined;
    if (!hist.keys.some((k) => k.string)) this.numericUpdate = this.compileNumeric();
  }

  /** Generated key/val code for numeric-only keys (the common case): inline loads and wraps, no per-field switch. */
  private readonly numericUpdate: ((v: Values, c: EmitContext, w: HistWriter) => void) | undefined;

  private compileNumeric(): (v: Values, c: EmitContext, w: HistWriter) => void {
    const G: ((v: Values, c: EmitContext) => number)[] = [];
    const u: U64 = { lo: 0, hi: 0 };
    /** Expression for a field's value as a signed/unsigned JS number, or a call to the generic path (lo/hi in U). */
    const load = (f: HistFieldSpec): string | undefined => {
      if (f.flag === 'log2' || f.flag === 'buckets') return undefined;
      if (f.source === 'common_pid') return '(c.pid | 0)';
      if (f.source === 'cpu') return '(c.cpu | 0)';
      if (f.source !== 'event' || f.size === 8) return undefined;
      const get = `v[${JSON.stringify(f.name)}]`;
      if (f.kind === 'bool') return `(${get} ? 1 : 0)`;
      const wrap: Record<string, string> = {
        u1: 'x & 255',
        s1: 'x << 24 >> 24',
        u2: 'x & 65535',
        s2: 'x << 16 >> 16',
        u4: 'x >>> 0',
        s4: 'x | 0',
      };
      const gi =
        G.push((vv: Values, cc: EmitContext) => {
          modifiedU64(f, vv, cc, u);
          return u.hi >= 0x80000000 ? u.lo | 0 : u.lo;
        }) - 1;
      return `((x = ${get}), typeof x === "number" ? (${wrap[`${f.signed ? 's' : 'u'}${f.size}`]}) : G[${gi}](v, c))`;
    };
    const generic = (f: HistFieldSpec): number =>
      G.push((vv: Values, cc: EmitContext) => {
        modifiedU64(f, vv, cc, u);
        return 0;
      }) - 1;
    let code = 'let x;\nconst key = w.key;\n';
    this.hist.keys.forEach((f, i) => {
      const word = this.keyOffsets[i] >> 2;
      const e = load(f);
      if (e) code += `x = ${e};\nkey[${word}] = x >>> 0;\nkey[${word + 1}] = x < 0 ? 4294967295 : 0;\n`;
      else code += `G[${generic(f)}](v, c);\nkey[${word}] = U.lo;\nkey[${word + 1}] = U.hi;\n`;
    });
    code += 'const s = w.hit(H(key, key.length), c.comm, key.length);\nif (s < 0) return;\n';
    this.hist.vals.forEach((f, i) => {
      const e = load(f);
      if (e) code += `w.add(s, ${i + 1}, ${e});\n`;
      else {
        code += `G[${generic(f)}](v, c);\n`;
        code += `w.add(s, ${i + 1}, U.hi >= 2147483648 ? (U.hi - 4294967296) * 4294967296 + U.lo : U.hi * 4294967296 + U.lo);\n`;
      }
    });
    return new Function('G', 'U', 'H', `"use strict";\nreturn function histUpdate(v, c, w) {\n${code}};`)(
      G,
      u,
      hashKey,
    ) as (v: Values, c: EmitContext, w: HistWriter) => void;
  }

  /** Attaches to a trigger created in another thread. */
  static fromSpec(event: EventDescriptor, data: HistTriggerData): HistTrigger {
    let filter: CompiledFilter | undefined;
    if (data.spec.filterText !== undefined) {
      const r = compileEventFilter(event, data.spec.filterText, { add() {} });
      if (r.ok) filter = r.filter;
    }
    return new HistTrigger(event, data.spec, new HistTable(data.shape, data.sab), filter);
  }

  get spec(): HistTriggerData {
    return { spec: this.hist, sab: this.table.sab, shape: this.table.shape };
  }

  describe(): string {
    return describeHist(this.hist, this.table.paused);
  }

  sameAs(other: HistTriggerHandle): boolean {
    return other instanceof HistTrigger && sameHist(this.hist, other.hist);
  }

  applyCommandTo(existing: HistTriggerHandle): void {
    if (!(existing instanceof HistTrigger)) return;
    if (this.command === 'pause') existing.table.setPaused(true);
    else if (this.command === 'cont') existing.table.setPaused(false);
    else if (this.command === 'clear') existing.table.clear();
  }

  release(): void {
    this.onRelease();
  }

  setPaused(paused: boolean): void {
    this.table.setPaused(paused);
  }

  /** One hit (emitting thread); the filter was already checked by the trigger set. */
  update(values: Values, ctx: EmitContext): void {
    const t = this.table;
    if (t.paused) return;
    const w = t.writer(ctx.cpu);
    if (!w) {
      t.overflow();
      return;
    }
    if (this.numericUpdate) {
      this.numericUpdate(values, ctx, w);
      return;
    }
    const key = w.key;
    const keys = this.hist.keys;
    const u = this.u64;
    // Only the words that can differ are hashed and compared: a lone string key up to its NUL, else all.
    let words = key.length;
    if (this.singleString) {
      key.fill(0, 0, w.dirtyWords);
      const n = writeStringKey(w.keyBytes, 0, stringKeyValue(keys[0], values), keys[0].size - 1);
      words = Math.min(key.length, (n >> 2) + 1);
      w.dirtyWords = words;
    } else {
      key.fill(0);
      w.dirtyWords = key.length;
      for (let i = 0; i < keys.length; i++) {
        const f = keys[i];
        const at = this.keyOffsets[i];
        if (f.string) writeStringKey(w.keyBytes, at, stringKeyValue(f, values), f.size - 1);
        else {
          modifiedU64(f, values, ctx, u);
          key[at >> 2] = u.lo;
          key[(at >> 2) + 1] = u.hi;
        }
      }
    }
    const s = w.hit(hashKey(key, words), ctx.comm, words);
    if (s < 0) return;
    const vals = this.valFields;
    for (let i = 0; i < vals.length; i++) {
      modifiedU64(vals[i], values, ctx, u);
      // Signed running sum in a double: exact below 2^53, printed modulo 2^64 like the kernel's u64.
      const x = u.hi >= 0x80000000 ? (u.hi - 4294967296) * 4294967296 + u.lo : u.hi * 4294967296 + u.lo;
      w.add(s, i + 1, x);
    }
  }

  /** This trigger's section of the `hist` file. */
  format(): string {
    return formatHist(this.hist, this.describe(), this.table.snapshot());
  }
}

/** Named tables (`name=`), shared by every trigger that uses the name in this instance. */
interface Named {
  readonly spec: HistSpec;
  readonly table: HistTable;
  refs: number;
}

export class HistRegistry {
  private readonly named = new Map<string, Named>();
  private readonly allocate: HistTableAllocator;

  /** `tables`: a number of writer regions for plain tables, or the allocator to take table memory from. */
  constructor(tables: number | HistTableAllocator = DEFAULT_HIST_REGIONS) {
    this.allocate = typeof tables === 'number' ? plainHistTables(tables) : tables;
  }

  /** The HistTriggerFactory for TriggerSet: parses, checks names, allocates or shares the table. */
  readonly factory = (
    event: EventDescriptor,
    param: string | undefined,
    remove: boolean,
    log: ErrorLogSink,
  ): { ok: true; trigger: HistTrigger } | { ok: false; errno: number } => {
    const r = this.create(event, param, remove, log);
    if (r.ok) {
      const ctx = histErrorContext(event, param ?? '');
      r.trigger.errorLocation = ctx.location;
      r.trigger.errorCommand = ctx.command;
    }
    return r;
  };

  /** Forgets the named hists whose table `unused` says no trigger holds any more (their triggers went away unreleased). */
  forgetNamed(unused: (table: HistTable) => boolean): void {
    for (const [name, n] of this.named) if (unused(n.table)) this.named.delete(name);
  }

  private create(
    event: EventDescriptor,
    param: string | undefined,
    remove: boolean,
    log: ErrorLogSink,
  ): { ok: true; trigger: HistTrigger } | { ok: false; errno: number } {
    const ctx = histErrorContext(event, param ?? '');
    const r = parseHistTrigger(event, param);
    if (!r.ok) {
      if (r.error.message !== undefined) log.add(ctx.location, r.error.message, ctx.command, r.error.pos);
      return { ok: false, errno: r.error.errno };
    }
    const spec = r.spec;
    let filter: CompiledFilter | undefined;
    if (spec.filterText !== undefined) {
      const m = /^if[ \t]+/.exec(spec.filterText);
      if (!m) return { ok: false, errno: EINVAL };
      const text = spec.filterText.slice(m[0].length);
      const f = compileEventFilter(event, text, log);
      if (!f.ok) return { ok: false, errno: f.error.errno };
      filter = f.filter;
    }
    const shown =
      spec.filterText === undefined ? spec : { ...spec, filterText: spec.filterText.replace(/^if[ \t]+/, '') };
    const name = spec.name;
    if (name !== undefined) {
      const n = this.named.get(name);
      if (n) {
        if (!compatible(n.spec, shown)) {
          log.add(ctx.location, HIST_ERRORS.NAMED_MISMATCH, ctx.command, Math.max(0, ctx.command.indexOf(name)));
          return { ok: false, errno: EINVAL };
        }
        n.refs++;
        return { ok: true, trigger: new HistTrigger(event, shown, n.table, filter, () => this.unref(name, n)) };
      }
    }
    const table = this.allocate(shown, remove);
    if (!table) return { ok: false, errno: ENOMEM };
    // A removal's table is only compared with: it never becomes the named table.
    if (name === undefined || remove) return { ok: true, trigger: new HistTrigger(event, shown, table, filter) };
    const n: Named = { spec: shown, table, refs: 1 };
    this.named.set(name, n);
    return { ok: true, trigger: new HistTrigger(event, shown, table, filter, () => this.unref(name, n)) };
  }

  private unref(name: string, n: Named): void {
    // Only the entry this trigger counted in: forgetNamed() may have replaced it since.
    if (--n.refs <= 0 && this.named.get(name) === n) this.named.delete(name);
  }
}

/** Named hists must agree on keys and vals (names, types, modifiers). */
function compatible(a: HistSpec, b: HistSpec): boolean {
  const same = (x: readonly HistFieldSpec[], y: readonly HistFieldSpec[]) =>
    x.length === y.length &&
    x.every((f, i) => f.name === y[i].name && f.size === y[i].size && f.signed === y[i].signed && f.flag === y[i].flag);
  return same(a.keys, b.keys) && same(a.vals, b.vals);
}

/** Content of an event's `hist` file: every hist trigger, newest first, separated by a blank line pair. */
export function readHistFile(triggers: readonly HistTriggerHandle[]): string {
  let s = '';
  let n = 0;
  for (const t of triggers) {
    if (!(t instanceof HistTrigger)) continue;
    if (n++ > 0) s += '\n\n';
    s += t.format();
  }
  return s;
}
