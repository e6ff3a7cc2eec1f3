/**
 * `startShipping`: reads the chosen events from a tree's instance of its own, page by page (trace_pipe_raw of every
 * CPU), turns records into rows of their event's table, batches them (bounded in rows, bytes and time) and hands the
 * batches to delivery. A page that says records were lost before it becomes a row of the `lost` table.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { TreeClient } from '../client/index.js';
import { type PageVisitor, walkPage } from '../trace/raw-page.js';
import type { EventDescriptor } from '../trace/record.js';
import { ClickHouse } from './clickhouse.js';
import { Delivery, type DeliveryCounters } from './delivery.js';
import { ShipInstance } from './instance.js';
import { fieldsText, tsvEscape } from './rows.js';
import { BATCH_COLUMNS, COMMON_COLUMNS, eventColumns, LOST_COLUMNS, LOST_TABLE, tableName } from './schema.js';
import { type Batch, Spool } from './spool.js';
import { Tables } from './tables.js';

export interface ShipOptions {
  /** ClickHouse HTTP URL(s). With `cluster`, one URL per shard: batches are spread over them. */
  readonly clickhouse: string | readonly string[];
  readonly database?: string;
  /** `system` or `system:event` selectors (set_event syntax); default every event. */
  readonly events?: readonly string[];
  /** A filter (the kernel's filter language) set on every shipped event. */
  readonly filter?: string;
  readonly service?: string;
  readonly host?: string;
  /** Name of a cluster in the servers' remote_servers: local tables + `<table>_all` Distributed tables. */
  readonly cluster?: string;
  /** Default `$TMPDIR/ntrace-<uid>/spool/<service>`. */
  readonly spoolDir?: string;
  /** Default 256 MiB. */
  readonly spoolMaxBytes?: number;
  /** Ring size per thread in the shipper's instance (buffer_size_kb); default 8192. */
  readonly bufferKb?: number;
  /** Batch bounds: default 50,000 rows, 4 MiB, 1000 ms. */
  readonly batchRows?: number;
  readonly batchBytes?: number;
  readonly batchMs?: number;
  readonly log?: (line: string) => void;
}

export interface ShipStats extends DeliveryCounters {
  readonly readRecords: number;
  readonly readPages: number;
  /** Records the ring overwrote before they were read (from the pages' missed-events counts). */
  readonly lostRecords: number;
  readonly lostWindows: number;
  readonly spooledRows: number;
  readonly spooledBytes: number;
  readonly unknownRecords: number;
  readonly down: boolean;
}

const PAGE_SIZE = 4096;
const PAGES_PER_READ = 16;

interface Pending {
  readonly table: string;
  readonly event: string;
  readonly columns: readonly string[];
  parts: string[];
  rows: number;
  bytes: number;
  since: number;
}

interface CpuState {
  prefix: string;
  seq: number;
  lastWallNs: string;
  lastTs: number;
  pid: number;
  comm: string;
}

export class Shipper {
  readonly instance: ShipInstance;
  readonly #tables: Tables;
  readonly #delivery: Delivery;
  readonly #spool: Spool;
  readonly #targets: ClickHouse[];
  readonly #host: string;
  readonly #service: string;
  readonly #limits: { rows: number; bytes: number; ms: number };
  readonly #pending = new Map<string, Pending>();
  readonly #cpus = new Map<number, CpuState>();
  readonly #streams = new Map<number, Promise<void>>();
  readonly #abort = new AbortController();
  readonly #log: (line: string) => void;
  /** Wall clock = trace clock (CLOCK_MONOTONIC ns) + offset, kept as whole seconds + ns to stay exact. */
  readonly #offSec: number;
  readonly #offNs: number;
  #readRecords = 0;
  #readPages = 0;
  #lostRecords = 0;
  #lostWindows = 0;
  #unknown = 0;
  #timer: NodeJS.Timeout | undefined;
  #scanning: Promise<void> | undefined;
  #closed = false;

  /** @internal use startShipping */
  constructor(tree: TreeClient, o: ShipOptions) {
    this.#log = o.log ?? ((l) => process.stderr.write(`${l}\n`));
    this.#host = o.host ?? os.hostname();
    this.#service = o.service ?? 'node';
    this.#limits = { rows: o.batchRows ?? 50_000, bytes: o.batchBytes ?? 4 << 20, ms: o.batchMs ?? 1000 };
    const urls = typeof o.clickhouse === 'string' ? o.clickhouse.split(',') : [...o.clickhouse];
    this.#targets = urls.map((u) => new ClickHouse(u));
    this.#tables = new Tables(o.database ?? 'ntrace', o.cluster);
    this.#tables.declare(LOST_TABLE, LOST_COLUMNS);
    const uid = process.getuid?.() ?? 0;
    this.#spool = new Spool(
      o.spoolDir ?? path.join(os.tmpdir(), `ntrace-${uid}`, 'spool', this.#service),
      o.spoolMaxBytes ?? 256 << 20,
    );
    this.#delivery = new Delivery({
      targets: this.#targets,
      spool: this.#spool,
      prepare: (t, b, force) => this.#tables.ensure(t, tableOf(b.table), b.columns, force),
      onSpoolDrop: (rows, event) => this.#lostRow(-1, rows, 0, '0', '0', 'spool', event),
      log: this.#log,
    });
    this.instance = new ShipInstance(tree, `ship-${process.pid}`, o.events ?? [], o.filter, o.bufferKb ?? 8192);
    const wallNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
    this.#offSec = Number(wallNs / 1_000_000_000n);
    this.#offNs = Number(wallNs % 1_000_000_000n);
  }

  async start(): Promise<void> {
    await this.instance.create();
    for (const p of this.instance.problems) this.#log(`ntrace ship: ${p}`);
    await this.#scan();
    this.#timer = setInterval(() => {
      this.#scanning ??= this.#scan()
        .catch((e) => this.#log(`ntrace ship: ${(e as Error).message}`))
        .finally(() => {
          this.#scanning = undefined;
        });
      this.#flushOld();
    }, 200);
    this.#timer.unref?.();
  }

  /** New CPUs (threads that started recording) get a reader; events defined since get enabled. */
  async #scan(): Promise<void> {
    await this.instance.refresh();
    for (const cpu of await this.instance.cpus()) {
      if (this.#streams.has(cpu) || this.#closed) continue;
      this.#streams.set(cpu, this.#read(cpu));
    }
  }

  async #read(cpu: number): Promise<void> {
    const st: CpuState = {
      prefix: '',
      seq: 0,
      lastWallNs: '0',
      lastTs: -1,
      pid: -1,
      comm: await this.instance.threadName(cpu),
    };
    this.#cpus.set(cpu, st);
    const visitor: PageVisitor = { record: () => {} };
    try {
      for await (const chunk of this.instance.tree.stream(`${this.instance.path}/per_cpu/cpu${cpu}/trace_pipe_raw`, {
        signal: this.#abort.signal,
        chunkSize: PAGES_PER_READ * PAGE_SIZE,
      })) {
        // A read returns as many whole pages as fit (one round trip for several).
        for (let at = 0; at + PAGE_SIZE <= chunk.length; at += PAGE_SIZE) {
          await this.#page(cpu, st, chunk.subarray(at, at + PAGE_SIZE), visitor);
        }
      }
    } catch (e) {
      if (!this.#closed) this.#log(`ntrace ship: cpu${cpu}: ${(e as Error).message}`);
    }
  }

  async #page(cpu: number, st: CpuState, page: Uint8Array, visitor: PageVisitor): Promise<void> {
    this.#readPages++;
    const dv = new DataView(page.buffer, page.byteOffset, page.byteLength);
    // Descriptors first (an unknown id needs an await), then the synchronous walk.
    const ids: number[] = [];
    walkPage(page, { record: (_ts, p, at) => ids.push(p[at] | (p[at + 1] << 8)) });
    const events = new Map<number, EventDescriptor | undefined>();
    for (const id of ids) if (!events.has(id)) events.set(id, await this.instance.descriptor(id));
    let first = true;
    visitor.record = (ts, p, at, len) => {
      const ev = events.get(p[at] | (p[at + 1] << 8));
      if (first && st.pid < 0) {
        st.pid = dv.getInt32(at + 4, true);
        st.prefix = `\t${tsvEscape(this.#host)}\t${tsvEscape(this.#service)}\t${st.pid}\t${cpu}\t${tsvEscape(st.comm)}\t`;
      }
      first = false;
      const seq = st.seq++;
      if (!ev) {
        this.#unknown++;
        return;
      }
      const wall = this.#wall(ts);
      this.#add(ev, `${wall.sec}\t${wall.ns}${st.prefix}${seq}${fieldsText(ev, p, dv, at, len)}\n`);
      st.lastWallNs = wall.ns;
      st.lastTs = ts;
    };
    const sum = walkPage(page, visitor);
    this.#readRecords += sum.records;
    if (sum.missed !== 0) {
      this.#lostRecords += Math.max(sum.missed, 0);
      this.#lostWindows++;
      this.#lostRow(cpu, sum.missed, st.seq - sum.records, st.lastWallNs, this.#wall(sum.firstTs).ns, 'overrun', '');
    }
  }

  async #entriesLeft(): Promise<number> {
    let n = 0;
    for (const cpu of this.#streams.keys()) {
      try {
        const text = Buffer.from(await this.instance.tree.readFile(`${this.instance.path}/per_cpu/cpu${cpu}/stats`));
        n += Number(/^entries: (\d+)/m.exec(text.toString())?.[1] ?? 0);
      } catch {
        // The tree went away: nothing more to read.
      }
    }
    return n;
  }

  #wall(ts: number): { sec: number; ns: string } {
    let sec = Math.floor(ts / 1e9);
    let ns = ts - sec * 1e9 + this.#offNs;
    sec += this.#offSec;
    if (ns >= 1e9) {
      ns -= 1e9;
      sec++;
    }
    return { sec, ns: `${sec}${String(ns).padStart(9, '0')}` };
  }

  #lostRow(cpu: number, count: number, seq: number, fromNs: string, toNs: string, reason: string, event: string): void {
    const st = this.#cpus.get(cpu);
    const sec = Math.floor(Date.now() / 1000);
    const row = [
      sec,
      tsvEscape(this.#host),
      tsvEscape(this.#service),
      st?.pid ?? process.pid,
      Math.max(cpu, 0),
      tsvEscape(st?.comm ?? ''),
      seq,
      count,
      fromNs,
      toNs,
      reason,
      tsvEscape(event),
    ].join('\t');
    this.#push(
      LOST_TABLE,
      'lost',
      LOST_COLUMNS.map((c) => c.name),
      `${row}\n`,
    );
  }

  #add(ev: EventDescriptor, row: string): void {
    const table = tableName(ev.system, ev.name);
    let p = this.#pending.get(table);
    if (
      !p ||
      p.columns.length !== COMMON_COLUMNS.length + ev.layout.fields.length + BATCH_COLUMNS.length ||
      !sameFields(p, ev)
    ) {
      if (p) this.#flush(p);
      const cols = eventColumns(ev);
      this.#tables.declare(table, [...COMMON_COLUMNS, ...BATCH_COLUMNS, ...cols]);
      p = this.#newPending(table, `${ev.system}:${ev.name}`, [
        ...COMMON_COLUMNS.map((c) => c.name),
        ...cols.map((c) => c.name),
        ...BATCH_COLUMNS.map((c) => c.name),
      ]);
    }
    this.#append(p, row);
  }

  #push(table: string, event: string, columns: readonly string[], row: string): void {
    const p = this.#pending.get(table) ?? this.#newPending(table, event, columns);
    this.#append(p, row);
  }

  #newPending(table: string, event: string, columns: readonly string[]): Pending {
    const p: Pending = { table, event, columns, parts: [], rows: 0, bytes: 0, since: Date.now() };
    this.#pending.set(table, p);
    return p;
  }

  #append(p: Pending, row: string): void {
    p.parts.push(row);
    p.rows++;
    p.bytes += row.length;
    if (p.rows >= this.#limits.rows || p.bytes >= this.#limits.bytes) this.#flush(p);
  }

  #flush(p: Pending): void {
    this.#pending.delete(p.table);
    if (p.rows === 0) return;
    const b: Batch = {
      table: this.#tables.qualified(p.table),
      columns: p.columns,
      rows: p.rows,
      event: p.event,
      body: Buffer.from(this.#withBatch(p), 'latin1'),
    };
    this.#delivery.submit(b);
  }

  /**
   * Event rows end with the batch's id and size (common_batch, common_batch_rows), so that a batch stored twice is
   * found by counting its rows (docs/SHIP.md, exactly-once). A row's only raw newline is its end.
   */
  #withBatch(p: Pending): string {
    const text = p.parts.join('');
    if (p.table === LOST_TABLE) return text;
    const id = randomBytes(8).readBigUInt64LE(0) >> 1n;
    return text.replaceAll('\n', `\t${id}\t${p.rows}\n`);
  }

  #flushOld(): void {
    const now = Date.now();
    for (const p of [...this.#pending.values()]) if (now - p.since >= this.#limits.ms) this.#flush(p);
  }

  stats(): ShipStats {
    return {
      ...this.#delivery.counters,
      readRecords: this.#readRecords,
      readPages: this.#readPages,
      lostRecords: this.#lostRecords,
      lostWindows: this.#lostWindows,
      spooledRows: this.#spool.rows,
      spooledBytes: this.#spool.bytes,
      unknownRecords: this.#unknown,
      down: this.#delivery.down,
    };
  }

  /**
   * Stops reading, removes the instance, sends what was read (waiting up to `drainMs` for ClickHouse); what could not
   * be sent stays in the spool for the next run.
   */
  async close(drainMs = 10_000): Promise<ShipStats> {
    if (this.#closed) return this.stats();
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#scanning;
    // What the ring still holds comes out first: until every CPU's stats say no entries are left (10 s at most).
    for (const end = Date.now() + 10_000; Date.now() < end; ) {
      if ((await this.#entriesLeft()) === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    this.#abort.abort();
    await Promise.all(this.#streams.values());
    await this.instance.remove();
    for (const p of [...this.#pending.values()]) this.#flush(p);
    await this.#delivery.drain(drainMs);
    await this.#delivery.stop();
    this.#spool.close();
    await Promise.all(this.#targets.map((t) => t.close()));
    return this.stats();
  }
}

function sameFields(p: Pending, ev: EventDescriptor): boolean {
  const off = COMMON_COLUMNS.length;
  return ev.layout.fields.every((f, i) => p.columns[off + i] === f.name);
}

function tableOf(qualified: string): string {
  return qualified.slice(qualified.lastIndexOf('.') + 1).replace(/`/g, '');
}

/** Starts shipping from `tree` (see ShipOptions); resolves once the instance exists and its events are enabled. */
export async function startShipping(tree: TreeClient, o: ShipOptions): Promise<Shipper> {
  const s = new Shipper(tree, o);
  try {
    await s.start();
  } catch (e) {
    await s.close(0).catch(() => {});
    throw e;
  }
  return s;
}

/** Stats as `name: value` lines, like the kernel's per_cpu stats file. */
export function statsText(s: ShipStats): string {
  return (
    `read: ${s.readRecords}\npages: ${s.readPages}\nshipped: ${s.shippedRows}\nbatches: ${s.shippedBatches}\n` +
    `spooled: ${s.spooledRows}\nspool bytes: ${s.spooledBytes}\nlost: ${s.lostRecords}\nlost windows: ${s.lostWindows}\n` +
    `spool dropped: ${s.spoolDroppedRows}\nrefused: ${s.refusedRows}\nrefused batches: ${s.refusedBatches}\n` +
    `retries: ${s.retries}\nunknown: ${s.unknownRecords}\n`
  );
}
