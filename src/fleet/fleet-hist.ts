/**
 * `ntrace hist --clickhouse URL 'hist:…' sys:event`: the kernel's hist language over the rows shipped from a fleet.
 * The trigger text is parsed by the parser the `trigger` file uses, against the event as its table describes it
 * (the column comments keep the ntrace types); keys become GROUP BY expressions computing exactly what the kernel
 * keys on (u64 of the field, `.log2`, `.buckets=N`, strings cut to the key size), vals become sums, and the answer is
 * printed by the same code that prints the `hist` file. Duplicates from at-least-once delivery are removed first
 * (LIMIT 1 BY the dedupe key), so counts are exactly-once.
 *
 * Differs from a hist file: no table size limit (`size=` is printed, nothing is dropped); `common_flags` and
 * `common_preempt_count` are 0; `--by host` prints one histogram per host.
 */
import { ClickHouse } from '../ship/clickhouse.js';
import { DEDUPE_KEY, fieldsFromColumns, quoteString, tableName } from '../ship/schema.js';
import { fieldTable } from '../trace/languages/filter/fields.js';
import { parseFilter } from '../trace/languages/filter/parse.js';
import { formatHist } from '../trace/languages/hist/format.js';
import { keyFieldBytes } from '../trace/languages/hist/key.js';
import { describeHist, type HistFieldSpec, type HistSpec, parseHistTrigger } from '../trace/languages/hist/spec.js';
import type { HistEntry } from '../trace/languages/hist/table.js';
import { computeLayout, type FieldSpec, type FieldType, parseFieldType } from '../trace/layout.js';
import type { EventDescriptor } from '../trace/record.js';
import { fieldSql, filterSql } from './filter-sql.js';

export interface FleetHistOptions {
  readonly clickhouse: string;
  readonly database?: string;
  /** Query `<table>_all` (the Distributed table of `ntrace ship --cluster`). */
  readonly cluster?: boolean;
  /** `10m`, `2h`, `30s`, `1d`, or a date-time ClickHouse reads (`2026-12-03 10:00:00`). */
  readonly since?: string;
  /** A filter (the kernel's filter language) on the event's fields. */
  readonly where?: string;
  /** `host`: one histogram per host. */
  readonly by?: 'host';
  /** Count duplicates of at-least-once delivery too (faster, not exactly-once). */
  readonly raw?: boolean;
}

export class FleetHistError extends Error {}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

function sinceSql(since: string): string {
  const m = /^(\d+)([smhd])$/.exec(since);
  if (m) return `common_ts >= now() - ${Number(m[1]) * UNITS[m[2]]}`;
  if (!/^[0-9: T-]+$/.test(since)) throw new FleetHistError(`--since takes 10m, 2h, 1d or a date-time, got '${since}'`);
  return `common_ts >= toDateTime(${quoteString(since.replace('T', ' '))})`;
}

/** The event as its table describes it. */
async function tableEvent(
  ch: ClickHouse,
  db: string,
  system: string,
  name: string,
  table: string,
): Promise<EventDescriptor> {
  const rows = await ch.rows(
    `SELECT name, comment FROM system.columns WHERE database = ${quoteString(db)} AND table = ${quoteString(table)}`,
  );
  if (rows.length === 0) throw new FleetHistError(`no table ${db}.${table}: nothing of ${system}:${name} was shipped`);
  const fields: FieldSpec[] = [];
  for (const f of fieldsFromColumns(rows.map((r) => ({ name: r[0], comment: r[1] ?? '' })))) {
    if (parseFieldType(f.type)) fields.push({ name: f.name, type: f.type as FieldType });
  }
  return { id: 0, system, name, fields, layout: computeLayout(fields) };
}

/** The u64 the kernel keys on, after the field's modifier. */
function keySql(f: HistFieldSpec): string {
  if (f.string) return `substring(${fieldSql(f.name, f.source)}, 1, ${f.size - 1})`;
  const col = fieldSql(f.name, f.source === 'event' ? 'event' : f.source === 'cpu' ? 'cpu' : 'common');
  const v = f.signed ? `toUInt64(toInt64(${col}))` : `toUInt64(${col})`;
  if (f.flag === 'log2') return `if(${v} <= 1, toUInt64(0), toUInt64(ceil(log2(${v}))))`;
  if (f.flag === 'buckets') return `intDiv(${v}, ${f.buckets}) * ${f.buckets}`;
  return v;
}

function valSql(f: HistFieldSpec): string {
  const col = fieldSql(f.name, f.source === 'event' ? 'event' : f.source === 'cpu' ? 'cpu' : 'common');
  return f.signed ? `sum(toInt64(${col}))` : `sum(toUInt64(${col}))`;
}

function keyBytes(spec: HistSpec, values: readonly string[]): Uint8Array {
  const size = spec.keys.reduce((n, k) => n + keyFieldBytes(k), 0);
  const key = new Uint8Array(size);
  const dv = new DataView(key.buffer);
  let at = 0;
  spec.keys.forEach((k, i) => {
    if (k.string) key.set(Buffer.from(values[i], 'utf8').subarray(0, k.size - 1), at);
    else dv.setBigUint64(at, BigInt.asUintN(64, BigInt(values[i])), true);
    at += keyFieldBytes(k);
  });
  return key;
}

function whereSql(conds: readonly string[]): string {
  return conds.length > 0 ? `WHERE ${conds.map((w) => `(${w})`).join(' AND ')}` : '';
}

/** Batches stored more than once are rare: past this many, the whole selection is deduplicated row by row. */
const MAX_DUP_BATCHES = 1000;

/** Batches stored more than once (more rows with their id than their size): rare, and cheap to find. */
async function duplicatedBatches(ch: ClickHouse, table: string): Promise<string[]> {
  const rows = await ch.rows(
    `SELECT common_batch FROM ${table} GROUP BY common_batch HAVING count() > any(common_batch_rows) LIMIT ${MAX_DUP_BATCHES + 1}`,
  );
  return rows.map((r) => r[0]);
}

/** The rows of `table` matching `where`, each event once: only the duplicated batches' rows go through LIMIT 1 BY. */
function exactlyOnce(table: string, where: readonly string[], dups: readonly string[]): string {
  if (dups.length > MAX_DUP_BATCHES) return `(SELECT * FROM ${table} ${whereSql(where)} LIMIT 1 BY ${DEDUPE_KEY})`;
  const set = `(${dups.join(', ')})`;
  return (
    `(SELECT * FROM ${table} ${whereSql([...where, `common_batch NOT IN ${set}`])} UNION ALL ` +
    `SELECT * FROM (SELECT * FROM ${table} ${whereSql([...where, `common_batch IN ${set}`])} LIMIT 1 BY ${DEDUPE_KEY}))`
  );
}

/** Runs the histogram; returns the text of the `hist` file (one section per host with `by: 'host'`). */
export async function fleetHist(histText: string, event: string, o: FleetHistOptions): Promise<string> {
  const m = /^([A-Za-z_][A-Za-z0-9_]*):([A-Za-z_][A-Za-z0-9_]*)$/.exec(event);
  if (!m) throw new FleetHistError(`the event is system:event, got '${event}'`);
  const db = o.database ?? 'ntrace';
  const local = tableName(m[1], m[2]);
  const ch = new ClickHouse(o.clickhouse);
  try {
    const ev = await tableEvent(ch, db, m[1], m[2], o.cluster ? `${local}_all` : local);
    const param = histText.replace(/^hist:/, '');
    const parsed = parseHistTrigger(ev, param);
    if (!parsed.ok) {
      const e = parsed.error;
      throw new FleetHistError(`hist: ${e.message ?? 'invalid trigger'}\n  hist:${param}\n  ${' '.repeat(e.pos)}^`);
    }
    // As the trigger set shows it: the filter without its `if`.
    const filterText = parsed.spec.filterText?.replace(/^if[ \t]+/, '');
    const spec: HistSpec = { ...parsed.spec, filterText };
    if (spec.clear || spec.pause || spec.cont)
      throw new FleetHistError('pause, cont and clear mean nothing over stored rows');
    const where: string[] = [];
    const filters = [filterText, o.where].filter((f): f is string => f !== undefined);
    for (const f of filters) {
      const r = parseFilter(f.trimEnd(), fieldTable(ev));
      if (!r.ok) {
        throw new FleetHistError(
          `filter: ${r.error.message ?? 'Error'}\n  ${f}\n  ${' '.repeat(Math.max(0, r.error.pos - 1))}^`,
        );
      }
      where.push(filterSql(r.program));
    }
    if (o.since) where.push(sinceSql(o.since));
    const table = `\`${db}\`.\`${o.cluster ? `${local}_all` : local}\``;
    const byHost = o.by === 'host';
    const keys = spec.keys.map((k, i) => `${keySql(k)} AS k${i}`);
    const execname = spec.keys.some((k) => k.flag === 'execname');
    const select = [
      ...(byHost ? ['common_host'] : []),
      ...keys,
      'count()',
      ...spec.vals.map(valSql),
      execname ? 'any(common_comm)' : "''",
    ];
    const groupBy = [...(byHost ? ['common_host'] : []), ...spec.keys.map((_, i) => `k${i}`)];
    const run = (source: string) =>
      ch.rows(`SELECT ${select.join(', ')} FROM ${source} GROUP BY ${groupBy.join(', ')}`);
    // Exactly-once without paying for it in the usual case: the plain query runs beside the duplicate check and is
    // the answer when no batch was stored twice.
    const plain = `${table} ${whereSql(where)}`;
    let rows: string[][];
    if (o.raw) rows = await run(plain);
    else {
      const [dups, fast] = await Promise.all([duplicatedBatches(ch, table), run(plain)]);
      rows = dups.length === 0 ? fast : await run(exactlyOnce(table, where, dups));
    }
    const sections = new Map<string, HistEntry[]>();
    for (const r of rows) {
      const host = byHost ? r.shift()! : '';
      const k = r.slice(0, spec.keys.length);
      const sums = r.slice(spec.keys.length, spec.keys.length + 1 + spec.vals.length).map(Number);
      const comm = r[spec.keys.length + 1 + spec.vals.length];
      let list = sections.get(host);
      if (!list) {
        list = [];
        sections.set(host, list);
      }
      list.push({ key: keyBytes(spec, k), sums, comm });
    }
    if (sections.size === 0) sections.set('', []);
    let out = '';
    for (const host of [...sections.keys()].sort()) {
      const entries = sections.get(host)!;
      if (byHost) out += `# host: ${host}\n`;
      const hits = entries.reduce((n, e) => n + e.sums[0], 0);
      out += formatHist(spec, describeHist(spec, false), { entries, hits, drops: 0 });
    }
    return out;
  } finally {
    await ch.close();
  }
}
