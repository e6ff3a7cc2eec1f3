/**
 * Parsing of a `hist:` trigger (trace_events_hist.c): attributes separated by `:` (`keys=`, `vals=`, `sort=`,
 * `size=`, `name=`, `pause`, `cont`/`continue`, `clear`), fields with modifiers (`.hex .sym .execname .log2
 * .buckets=N .usecs`), and the kernel's error_log texts with its caret rule (the caret points at the first
 * occurrence of the offending text in `hist:<everything after hist:>`).
 *
 * Supported subset: up to 3 keys (numeric, string, common_pid, common_cpu), up to 3 numeric vals besides hitcount,
 * 2 sort keys. Not supported (answered EINVAL, with "Couldn't find field" where the kernel would look a name up):
 * variables, expressions, common_timestamp, stacktrace keys and onmatch/onmax/onchange actions.
 */
import type { EventDescriptor } from '../../record.js';
import { kstrtoull } from '../cstring.js';
import { EINVAL } from '../errno.js';
import { fieldTable } from '../filter/fields.js';

/** HIST_ERR_* texts used here. */
export const HIST_ERRORS = {
  TRIGGER_EEXIST: 'Hist trigger already exists',
  TRIGGER_ENOENT_CLEAR: "Can't clear or continue a nonexistent hist trigger",
  NAMED_MISMATCH: "Named hist trigger doesn't match existing named trigger (includes variables)",
  BAD_FIELD_MODIFIER: 'Invalid field modifier',
  FIELD_NOT_FOUND: "Couldn't find field",
  EMPTY_ASSIGNMENT: 'Empty assignment',
  INVALID_SORT_MODIFIER: 'Invalid sort modifier',
  EMPTY_SORT_FIELD: 'Empty sort field',
  TOO_MANY_SORT_FIELDS: 'Too many sort fields (Max = 2)',
  INVALID_SORT_FIELD: 'Sort field must be a key or a val',
} as const;

export const HIST_KEYS_MAX = 3;
export const HIST_VALS_MAX = 3;
export const HIST_SORT_KEYS_MAX = 2;
export const HIST_BITS_MIN = 7;
export const HIST_BITS_MAX = 17;
export const HIST_BITS_DEFAULT = 11;
/** MAX_FILTER_STR_VAL: longest string key kept (minus the NUL). */
export const HIST_STR_MAX = 256;

export type HistFieldSource = 'event' | 'common_pid' | 'cpu' | 'common';

export interface HistFieldSpec {
  /** The name as printed (hist_field_name): `common_cpu` for any CPU alias. */
  readonly name: string;
  readonly source: HistFieldSource;
  readonly string: 'dyn' | 'static' | undefined;
  /** Bytes of the value (integers: 1/2/4/8; strings: the key bytes kept, NUL included). */
  readonly size: number;
  readonly signed: boolean;
  readonly kind: 'int' | 'bool' | 'string' | 'chars' | 'array';
  readonly flag: 'hex' | 'sym' | 'sym-offset' | 'execname' | 'log2' | 'usecs' | 'buckets' | undefined;
  readonly buckets: number;
}

/** The CPU as a hist field, whichever alias named it (the kernel prints every one as `common_cpu`). */
function cpuField(flag: HistFieldSpec['flag'], buckets: number): HistFieldSpec {
  return { name: 'common_cpu', source: 'cpu', string: undefined, size: 4, signed: true, kind: 'int', flag, buckets };
}

export interface HistSortKey {
  /** 0 = hitcount, 1..vals.length = vals, then keys (the kernel's field numbering). */
  readonly index: number;
  readonly descending: boolean;
}

export interface HistSpec {
  readonly system: string;
  readonly event: string;
  readonly keys: readonly HistFieldSpec[];
  readonly vals: readonly HistFieldSpec[];
  readonly sort: readonly HistSortKey[];
  readonly bits: number;
  readonly name: string | undefined;
  readonly filterText: string | undefined;
  readonly pause: boolean;
  readonly cont: boolean;
  readonly clear: boolean;
}

export interface HistParseError {
  readonly errno: number;
  /** Undefined when the kernel fails without an error_log entry. */
  readonly message: string | undefined;
  readonly pos: number;
}

export type HistParseResult = { ok: true; spec: HistSpec } | { ok: false; error: HistParseError };

/** error_log location and command of a hist trigger write. */
export function histErrorContext(event: EventDescriptor, param: string): { location: string; command: string } {
  return { location: `hist:${event.system}:${event.name}`, command: `hist:${param}` };
}

class Fail {
  constructor(readonly e: HistParseError) {}
}

/**
 * Parses the text after `hist:` (`param` = "keys=...:vals=... if filter"). Filter text is returned unparsed (the
 * trigger set compiles it like any trigger filter).
 */
export function parseHistTrigger(event: EventDescriptor, param: string | undefined): HistParseResult {
  const command = `hist:${param ?? ''}`;
  const errpos = (s: string) => Math.max(0, command.indexOf(s));
  const fail = (message: string | undefined, pos: number, errno = EINVAL): never => {
    throw new Fail({ errno, message, pos });
  };
  try {
    if (param === undefined || param === '') fail(undefined, 0);
    const p = param as string;
    // Split off " if <filter>": "if" preceded and followed by a blank.
    let trigger = p;
    let filterText: string | undefined;
    let at = 0;
    for (;;) {
      const i = p.indexOf('if', at);
      if (i < 0) break;
      if (i === 0) fail(undefined, 0);
      if (p[i - 1] !== ' ' && p[i - 1] !== '\t') {
        at = i + 1;
        continue;
      }
      if (i >= p.length - 2 - 1) fail(undefined, 0);
      if (p[i + 2] !== ' ' && p[i + 2] !== '\t') {
        at = i + 1;
        continue;
      }
      trigger = p.slice(0, i - 1).trim();
      filterText = p.slice(i).trim();
      break;
    }
    let keysStr: string | undefined;
    let valsStr: string | undefined;
    let sortStr: string | undefined;
    let name: string | undefined;
    let bits = HIST_BITS_DEFAULT;
    let pause = false;
    let cont = false;
    let clear = false;
    for (const str of trigger.split(':')) {
      const eq = str.indexOf('=');
      if (eq >= 0) {
        if (eq === str.length - 1) fail(HIST_ERRORS.EMPTY_ASSIGNMENT, errpos(str));
        const v = str.slice(eq + 1);
        if (str.startsWith('key=') || str.startsWith('keys=')) keysStr = v;
        else if (str.startsWith('val=') || str.startsWith('vals=') || str.startsWith('values=')) valsStr = v;
        else if (str.startsWith('sort=')) sortStr = v;
        else if (str.startsWith('name=')) name = v;
        else if (str.startsWith('size=')) {
          const n = kstrtoull(v);
          if (n === undefined) fail(undefined, 0);
          const b = n! <= 1n ? 0 : (n! - 1n).toString(2).length;
          if (b < HIST_BITS_MIN || b > HIST_BITS_MAX) fail(undefined, 0);
          bits = b;
        } else fail(undefined, 0); // variables: not supported
      } else if (str === 'pause') pause = true;
      else if (str === 'cont' || str === 'continue') cont = true;
      else if (str === 'clear') clear = true;
      else fail(undefined, 0);
    }
    if (keysStr === undefined) fail(undefined, 0);
    const fields = fieldTable(event);
    const parseField = (fieldStr: string, isKey: boolean): HistFieldSpec => {
      const dot = fieldStr.indexOf('.');
      const fname = dot < 0 ? fieldStr : fieldStr.slice(0, dot);
      const modifier = dot < 0 ? undefined : fieldStr.slice(dot + 1);
      let flag: HistFieldSpec['flag'];
      let buckets = 0;
      if (modifier !== undefined) {
        if (modifier === 'hex') flag = 'hex';
        else if (modifier === 'sym') flag = 'sym';
        else if (modifier === 'sym-offset') flag = 'sym-offset';
        else if (modifier === 'execname' && fname === 'common_pid') flag = 'execname';
        else if (modifier === 'log2') flag = 'log2';
        else if (modifier === 'usecs') flag = 'usecs';
        else if (modifier.startsWith('bucket')) {
          let m = modifier.slice(6);
          if (m[0] === 's') m = m.slice(1);
          const n = m[0] === '=' ? kstrtoull(m.slice(1)) : undefined;
          if (n === undefined || n === 0n || n > BigInt(Number.MAX_SAFE_INTEGER)) {
            fail(HIST_ERRORS.BAD_FIELD_MODIFIER, errpos(modifier));
          }
          flag = 'buckets';
          buckets = Number(n);
        } else fail(HIST_ERRORS.BAD_FIELD_MODIFIER, errpos(modifier));
      }
      if (fname === 'common_cpu') return cpuField(flag, buckets);
      const f = fields.find(fname);
      if (!f) fail(HIST_ERRORS.FIELD_NOT_FOUND, errpos(fname));
      if (f!.source === 'cpu') return cpuField(flag, buckets);
      if (f!.source === 'comm') fail(HIST_ERRORS.FIELD_NOT_FOUND, errpos(fname));
      const l = f!.layout!;
      const isString = f!.stringKind === 'dyn' || f!.stringKind === 'static';
      if (isString && !isKey) fail(undefined, 0);
      if (isString && flag !== undefined) fail(HIST_ERRORS.BAD_FIELD_MODIFIER, errpos(modifier!));
      // Integer arrays have no histogram function here.
      if (l.kind === 'array') fail(undefined, 0);
      const source: HistFieldSource =
        f!.source === 'common' ? (l.name === 'common_pid' ? 'common_pid' : 'common') : 'event';
      let size = l.size;
      if (f!.stringKind === 'dyn') size = HIST_STR_MAX;
      return {
        name: l.name,
        source,
        string: f!.stringKind as 'dyn' | 'static' | undefined,
        size,
        signed: l.signed,
        kind: l.kind,
        flag,
        buckets,
      };
    };
    const keyStrs = keysStr!.split(',');
    if (keyStrs.length > HIST_KEYS_MAX) fail(undefined, 0);
    const keys = keyStrs.map((k) => {
      if (k === '') fail(undefined, 0);
      return parseField(k, true);
    });
    const vals: HistFieldSpec[] = [];
    if (valsStr !== undefined) {
      let hitcounts = 0;
      for (const v of valsStr.split(',')) {
        if (v === 'hitcount' && hitcounts++ === 0) continue;
        if (vals.length >= HIST_VALS_MAX) fail(undefined, 0);
        if (v === '') fail(undefined, 0);
        vals.push(parseField(v, false));
      }
    }
    const sort: HistSortKey[] = [];
    if (sortStr === undefined) sort.push({ index: 0, descending: false });
    else {
      const parts = sortStr.split(',');
      for (let i = 0; i < HIST_SORT_KEYS_MAX && i < parts.length; i++) {
        const s = parts[i];
        if (s === '') fail(HIST_ERRORS.EMPTY_SORT_FIELD, errpos('sort='));
        if (i === HIST_SORT_KEYS_MAX - 1 && parts.length > HIST_SORT_KEYS_MAX) {
          fail(HIST_ERRORS.TOO_MANY_SORT_FIELDS, errpos('sort='));
        }
        const dot = s.indexOf('.');
        const fname = dot < 0 ? s : s.slice(0, dot);
        const mod = dot < 0 ? undefined : s.slice(dot + 1);
        if (fname === '') fail(HIST_ERRORS.EMPTY_SORT_FIELD, errpos('sort='));
        let index = -1;
        if (fname === 'hitcount') index = 0;
        else {
          const all = [...vals, ...keys];
          const j = all.findIndex((f) => f.name === fname);
          if (j < 0) fail(HIST_ERRORS.INVALID_SORT_FIELD, errpos(fname));
          index = j + 1;
        }
        let descending = false;
        if (mod !== undefined) {
          if (mod === 'descending') descending = true;
          else if (mod !== 'ascending') fail(HIST_ERRORS.INVALID_SORT_MODIFIER, errpos(mod));
        }
        sort.push({ index, descending });
      }
    }
    return {
      ok: true,
      spec: { system: event.system, event: event.name, keys, vals, sort, bits, name, filterText, pause, cont, clear },
    };
  } catch (e) {
    if (e instanceof Fail) return { ok: false, error: e.e };
    throw e;
  }
}

/** Field as the trigger line prints it (hist_field_print). */
export function printHistField(f: HistFieldSpec): string {
  let s = f.name;
  if (f.flag) s += `.${f.flag}`;
  if (f.flag === 'buckets') s += `=${f.buckets}`;
  return s;
}

/** The `# trigger info:` / trigger file line of a hist trigger, without the newline. */
export function describeHist(spec: HistSpec, paused: boolean): string {
  let s = 'hist:';
  if (spec.name !== undefined) s += `name=${spec.name}:`;
  s += `keys=${spec.keys.map(printHistField).join(',')}`;
  s += ':vals=hitcount';
  for (const v of spec.vals) s += `,${printHistField(v)}`;
  const all = [...spec.vals, ...spec.keys];
  s += `:sort=${spec.sort
    .map((k) => (k.index === 0 ? 'hitcount' : printHistField(all[k.index - 1])) + (k.descending ? '.descending' : ''))
    .join(',')}`;
  s += `:size=${1 << spec.bits}`;
  if (spec.filterText !== undefined) s += ` if ${spec.filterText}`;
  s += paused ? ' [paused]' : ' [active]';
  return s;
}

/** hist_trigger_match(): same keys, vals, sort keys and filter presence/text (the size and name do not count). */
export function sameHist(a: HistSpec, b: HistSpec): boolean {
  const same = (x: readonly HistFieldSpec[], y: readonly HistFieldSpec[]) =>
    x.length === y.length && x.every((f, i) => printHistField(f) === printHistField(y[i]));
  return (
    same(a.keys, b.keys) &&
    same(a.vals, b.vals) &&
    a.sort.length === b.sort.length &&
    a.sort.every((k, i) => k.index === b.sort[i].index && k.descending === b.sort[i].descending) &&
    a.filterText === b.filterText &&
    a.name === b.name
  );
}
