/**
 * Keeps the tables of shipped events in step with their formats on every target: creates the database and tables
 * once, and adds the columns a redefined event brought (ALTER … ADD COLUMN; 18.16 has no IF NOT EXISTS there, so
 * the existing columns are read first). In cluster mode each shard also gets the Distributed table `<table>_all`.
 */
import type { ClickHouse } from './clickhouse.js';
import { addColumnSql, type Column, createDistributedSql, createTableSql, quoteString } from './schema.js';

export class Tables {
  readonly db: string;
  readonly cluster: string | undefined;
  /** Every column ever seen per table (the newest definition of each event adds to it). */
  readonly #wanted = new Map<string, Column[]>();
  /** What each target is known to have: table → column names. */
  readonly #known = new Map<ClickHouse, Map<string, Set<string>>>();
  readonly #dbDone = new Set<ClickHouse>();

  constructor(db: string, cluster?: string) {
    this.db = db;
    this.cluster = cluster;
  }

  /** Declares the columns of `table` (merging with what was declared before). */
  declare(table: string, columns: readonly Column[]): void {
    const have = this.#wanted.get(table) ?? [];
    const names = new Set(have.map((c) => c.name));
    const add = columns.filter((c) => !names.has(c.name));
    if (add.length > 0 || !this.#wanted.has(table)) this.#wanted.set(table, [...have, ...add]);
  }

  /** `db`.`table` for inserts. */
  qualified(table: string): string {
    return `\`${this.db}\`.\`${table}\``;
  }

  /** Makes `table` on `target` have `columns` (names declared before). `force` forgets what was known. */
  async ensure(target: ClickHouse, table: string, columns: readonly string[], force: boolean): Promise<void> {
    let known = this.#known.get(target);
    if (!known) {
      known = new Map();
      this.#known.set(target, known);
    }
    if (force) {
      known.delete(table);
      this.#dbDone.delete(target);
    }
    const have = known.get(table);
    if (have && columns.every((c) => have.has(c))) return;
    if (!this.#dbDone.has(target)) {
      await target.command(`CREATE DATABASE IF NOT EXISTS \`${this.db}\``);
      this.#dbDone.add(target);
    }
    const wanted = this.#wanted.get(table);
    if (!wanted) throw new Error(`no columns declared for table ${table}`);
    const names = [table, ...(this.cluster ? [`${table}_all`] : [])];
    await target.command(createTableSql(this.db, table, wanted));
    if (this.cluster) await target.command(createDistributedSql(this.db, table, wanted, this.cluster));
    const seen = new Set<string>();
    for (const t of names) {
      const rows = await target.rows(
        `SELECT name FROM system.columns WHERE database = ${quoteString(this.db)} AND table = ${quoteString(t)}`,
      );
      const cols = new Set(rows.map((r) => r[0]));
      for (const c of wanted) {
        if (cols.has(c.name)) continue;
        try {
          await target.command(addColumnSql(this.db, t, c));
        } catch (e) {
          // Another shipper added it meanwhile: fine; anything else is the server's answer to report.
          if (!/already exists/i.test((e as Error).message)) throw e;
        }
      }
      if (t === table) for (const c of wanted) seen.add(c.name);
    }
    known.set(table, seen);
  }
}
