/**
 * ClickHouse tables from event formats. One table per event (`<system>_<event>`), typed columns, plus the common
 * columns every row has. Event fields can never start with `common_` (the kernel's rule, enforced by defineEvent), so
 * the common columns never collide with an event's own. Each event column carries its ntrace type as its COMMENT, so
 * `ntrace hist` rebuilds the event (and its filter/hist field table) from the table alone.
 *
 * Written for ClickHouse 18.16 (Debian's): no DateTime64, no `ADD COLUMN IF NOT EXISTS`, no query parameters.
 */
import type { FieldLayout } from '../trace/layout.js';
import type { EventDescriptor } from '../trace/record.js';

export interface Column {
  readonly name: string;
  readonly type: string;
  /** The ntrace field type for event columns; undefined for common ones. */
  readonly comment?: string;
}

/** Columns every event table starts with, in insert order. */
export const COMMON_COLUMNS: readonly Column[] = [
  { name: 'common_ts', type: 'DateTime' }, // wall-clock second: the partition key
  { name: 'common_ts_ns', type: 'UInt64' }, // wall-clock ns since the epoch
  { name: 'common_host', type: 'String' },
  { name: 'common_service', type: 'String' },
  { name: 'common_pid', type: 'UInt32' },
  { name: 'common_cpu', type: 'UInt32' }, // ntrace's CPU: the emitting thread's index (its thread id)
  { name: 'common_comm', type: 'String' }, // the thread's name
  { name: 'common_seq', type: 'UInt64' }, // per (host, pid, thread) sequence number, for dedupe
];

/**
 * Last columns of every event row: a random id of the batch it was delivered in, and that batch's size. A batch is
 * one insert (one block: stored whole or not at all), so a batch delivered twice shows as more rows with its id than
 * its size — cheap to find without comparing rows.
 */
export const BATCH_COLUMNS: readonly Column[] = [
  { name: 'common_batch', type: 'UInt64' },
  { name: 'common_batch_rows', type: 'UInt32' },
];

/** The key that identifies one event: rows equal on it are copies of one delivery. */
export const DEDUPE_KEY = 'common_host, common_pid, common_cpu, common_seq, common_ts_ns';

const INTS: Record<number, string> = { 1: '8', 2: '16', 4: '32', 8: '64' };

function columnType(f: FieldLayout): string {
  switch (f.kind) {
    case 'int':
      return `${f.signed ? 'Int' : 'UInt'}${INTS[f.elemSize]}`;
    case 'bool':
      return 'UInt8';
    case 'string':
    case 'chars':
      return 'String';
    case 'array':
      return `Array(${f.signed ? 'Int' : 'UInt'}${INTS[f.elemSize]})`;
  }
}

export function tableName(system: string, event: string): string {
  return `${system}_${event}`;
}

export function eventColumns(event: EventDescriptor): Column[] {
  return event.layout.fields.map((f) => ({ name: f.name, type: columnType(f), comment: String(f.type) }));
}

export function quoteString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function columnDecl(c: Column): string {
  return `\`${c.name}\` ${c.type}${c.comment !== undefined ? ` COMMENT ${quoteString(c.comment)}` : ''}`;
}

/** The local MergeTree table of an event (or of `lost`), partitioned by day of common_ts. */
export function createTableSql(db: string, table: string, columns: readonly Column[]): string {
  return (
    `CREATE TABLE IF NOT EXISTS \`${db}\`.\`${table}\` (${columns.map(columnDecl).join(', ')}) ` +
    'ENGINE = MergeTree PARTITION BY toYYYYMMDD(common_ts) ORDER BY (common_host, common_pid, common_cpu, common_seq)'
  );
}

/** A Distributed table `<table>_all` over the local tables of cluster `cluster` (rows spread at random). */
export function createDistributedSql(db: string, table: string, columns: readonly Column[], cluster: string): string {
  return (
    `CREATE TABLE IF NOT EXISTS \`${db}\`.\`${table}_all\` (${columns.map(columnDecl).join(', ')}) ` +
    `ENGINE = Distributed(\`${cluster}\`, \`${db}\`, \`${table}\`, rand())`
  );
}

export function addColumnSql(db: string, table: string, c: Column): string {
  return `ALTER TABLE \`${db}\`.\`${table}\` ADD COLUMN ${columnDecl(c)}`;
}

/** The `lost` table: one row per window in which records were overwritten before shipping, or dropped by the spool. */
export const LOST_TABLE = 'lost';
export const LOST_COLUMNS: readonly Column[] = [
  { name: 'common_ts', type: 'DateTime' },
  { name: 'common_host', type: 'String' },
  { name: 'common_service', type: 'String' },
  { name: 'common_pid', type: 'UInt32' },
  { name: 'common_cpu', type: 'UInt32' },
  { name: 'common_comm', type: 'String' },
  { name: 'common_seq', type: 'UInt64' },
  { name: 'count', type: 'Int64' }, // -1: records were lost but the page could not say how many
  { name: 'from_ns', type: 'UInt64' },
  { name: 'to_ns', type: 'UInt64' },
  { name: 'reason', type: 'String' }, // 'overrun' (ring) or 'spool' (spool full: oldest batch dropped)
  { name: 'event', type: 'String' },
];

/** Rebuilds ntrace field types from a table's columns (name, type, comment), in column order. */
export function fieldsFromColumns(
  cols: readonly { name: string; comment: string }[],
): { name: string; type: string }[] {
  return cols
    .filter((c) => !c.name.startsWith('common_') && c.comment !== '')
    .map((c) => ({ name: c.name, type: c.comment }));
}
