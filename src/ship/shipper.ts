/**
 * `startShipping`: reads the chosen events from a tree's instance of its own, page by page (trace_pipe_raw of every
 * CPU), turns records into rows of their event's table, batches them (bounded in rows, bytes and time) and hands the
 * batches to delivery. A page that says records were lost before it becomes a row of the `lost` table.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TreeClient } from '../client/index.js';
import { type PageVisitor, walkPage } from '../trace/raw-page.js';
import type { EventDescriptor } from '../trace/record.js';
import { ClickHouse } from './clickhouse.js';
import { type ColumnBuffer, writeField } from './column-data.js';
import { Delivery, type DeliveryCounters } from './delivery.js';
import { ShipInstance } from './instance.js';
import { type BlockColumn, encodedString, NativeBlock } from './native-block.js';
import {
  BATCH_COLUMNS,
  COMMON_COLUMNS,
  type Column,
  eventColumns,
  LOST_COLUMNS,
  LOST_TABLE,
  tableName,
} from './schema.js';
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
  /**
   * Ring size per thread in the shipper's instance (buffer_size_kb); default 16384: 1.5 s of 250,000 events/s of
   * 44-byte records, for when the shipper or the server gets no CPU for a while.
   */
  readonly bufferKb?: number;
  /**
   * Batch bounds: default 50,000 rows, 4 MiB, 1000 ms. The time bound is also the longest nap between two passes
   * over a ring (docs/SHIP.md, cadence): rows reach ClickHouse ~1-2 of it after they were written.
   */
  readonly batchRows?: number;
  readonly batchBytes?: number;
  readonly batchMs?: number;
  /**
   * Nice value of the shipping process (priority.ts): `ntrace ship --nice N`; the child a mount starts runs at 19
   * (yields the CPU to the application) unless this says otherwise. Unset for `ntrace ship` run by hand: unchanged.
   */
  readonly nice?: number;
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
/** Pages asked per read of trace_pipe_raw: 128 KiB, the most one FUSE read carries (max_pages 32). */
const PAGES_PER_READ = 32;
const TWO32 = 4294967296;
/**
 * The longest between two reads of an empty ring: each read is a round trip through the application's serving
 * thread, so an idle ring costs ~4 reads a second, and a thread that starts emitting at 250,000 events/s has filled
 * a sixth of its ring (2.75 MB) when it is first read.
 */
const IDLE_MS = 250;
/**
 * Shortest pause after a read that emptied the ring (the rate-based nap below, at rates that fill a quarter of the
 * ring faster than this, reads back to back instead).
 */
const MIN_NAP_MS = 10;
/** The share of the ring the shipper lets fill between two passes at the rate it just saw: bursts 4x that fit. */
const RING_SHARE = 4;
/**
 * Ring bytes a ms at the fastest stream the shipper is built for (250,000 events/s of ~56-byte records): a nap is
 * never longer than it takes that stream to fill half the ring, so a thread that jumps from a trickle (or nothing)
 * to that rate during a nap loses nothing (with the default 16 MiB ring: 0.6 s).
 */
const PEAK_BYTES_PER_MS = 14_000;

interface Pending {
  readonly table: string;
  readonly event: string;
  /** The event whose rows these are (undefined for `lost`). */
  readonly ev: EventDescriptor | undefined;
  readonly block: NativeBlock;
  readonly since: number;
}

interface CpuState {
  /** The thread name as a String column value. */
  comm: Buffer;
  commText: string;
  seq: number;
  /** Trace-clock ns of the last record read (-1: none yet). */
  lastTs: number;
  pid: number;
}

/** Event blocks: the common columns, the event's fields, the batch columns (host, service and batch constant). */
const CONSTANT: Record<string, string> = {
  common_host: 'host',
  common_service: 'service',
  common_batch: 'batch',
  common_batch_rows: 'batch_rows',
};
/** Where the event's fields start in an event block. */
const FIELDS_AT = COMMON_COLUMNS.length;

function blockColumns(columns: readonly Column[], ev?: EventDescriptor): BlockColumn[] {
  return columns.map((c) => {
    const f = ev?.layout.fields.find((x) => x.name === c.name);
    if (f?.kind === 'array') return { ...c, arrayLength: f.count };
    return CONSTANT[c.name] ? { ...c, constant: CONSTANT[c.name] } : c;
  });
}

/**
 * Walks pages of one CPU into blocks. A record of an event not known yet stops the walk (its format file must be
 * read, which needs an await); the page is then walked again from that record on.
 */
class PageDecoder implements PageVisitor {
  /** Records of this page handled so far (skipped when the page is walked again). */
  done = 0;
  skip = 0;
  /** The id that stopped the walk, or -1. */
  stopAt = -1;
  /** Ids looked up during this page and still unknown: their records are counted and skipped. */
  readonly asked = new Set<number>();
  /** The thread's sequence number and last timestamp before this page (where a loss window starts). */
  seq0 = 0;
  lastTs = -1;

  constructor(
    readonly shipper: Shipper,
    readonly cpu: number,
    readonly st: CpuState,
  ) {}

  record(ts: number, page: Uint8Array, at: number, len: number): void {
    if (this.skip > 0) {
      this.skip--;
      return;
    }
    if (this.stopAt >= 0) return;
    const id = page[at] | (page[at + 1] << 8);
    const ev = this.shipper.instance.known(id);
    if (ev === undefined && !this.asked.has(id)) {
      this.stopAt = id;
      return;
    }
    this.done++;
    this.shipper.add(this, ev, ts, page, at, len);
  }
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
  /** The pending block of each event descriptor (a record finds its block without making the table's name). */
  readonly #pendingByEvent = new Map<EventDescriptor, Pending>();
  /** Column buffer sizes of each table's last block. */
  readonly #lastSizes = new Map<string, number[]>();
  readonly #cpus = new Map<number, CpuState>();
  readonly #streams = new Map<number, Promise<void>>();
  readonly #abort = new AbortController();
  /** Aborted by close(): readers stop napping and read what is left at once. */
  readonly #hurry = new AbortController();
  /** Bytes of one CPU's ring (the instance's buffer_size_kb). */
  readonly #ringBytes: number;
  readonly #log: (line: string) => void;
  /** Values of the constant columns (host, service). */
  readonly #constants: ReadonlyMap<string, Buffer>;
  /** Wall clock = trace clock (CLOCK_MONOTONIC ns) + offset: as whole seconds + ns, and as a u64's two words. */
  readonly #offSec: number;
  readonly #offNs: number;
  readonly #offLo: number;
  readonly #offHi: number;
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
    this.#constants = new Map([
      ['host', encodedString(this.#host)],
      ['service', encodedString(this.#service)],
    ]);
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
      onSpoolDrop: (rows, event) => this.#lostRow(-1, rows, 0, -1, -1, 'spool', event),
      log: this.#log,
    });
    this.instance = new ShipInstance(tree, `ship-${process.pid}`, o.events ?? [], o.filter, o.bufferKb ?? 16384);
    this.#ringBytes = this.instance.bufferKb * 1024;
    const wallNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
    this.#offSec = Number(wallNs / 1_000_000_000n);
    this.#offNs = Number(wallNs % 1_000_000_000n);
    this.#offLo = Number(wallNs & 0xffffffffn);
    this.#offHi = Number(wallNs >> 32n);
  }

  async start(): Promise<void> {
    await this.instance.create();
    for (const p of this.instance.problems) this.#log(`ntrace ship: ${p}`);
    await this.#scan();
    let tick = 0;
    this.#timer = setInterval(() => {
      this.#flushOld();
      // The tree is looked at once a second (each look is reads that the application's serving thread answers).
      if (++tick % 5 !== 0) return;
      this.#scanning ??= this.#scan()
        .catch((e) => this.#log(`ntrace ship: ${(e as Error).message}`))
        .finally(() => {
          this.#scanning = undefined;
        });
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
    const commText = await this.instance.threadName(cpu);
    const st: CpuState = { comm: encodedString(commText), commText, seq: 0, lastTs: -1, pid: -1 };
    this.#cpus.set(cpu, st);
    const decoder = new PageDecoder(this, cpu, st);
    const chunks = this.instance.tree
      .stream(`${this.instance.path}/per_cpu/cpu${cpu}/trace_pipe_raw`, {
        signal: this.#abort.signal,
        chunkSize: PAGES_PER_READ * PAGE_SIZE,
        idleNapMs: Math.min(IDLE_MS, this.#limits.ms),
        // Its naps are pauses in reading over a socket too (the shipper asks for a read ahead itself).
        paced: true,
      })
      [Symbol.asyncIterator]();
    // A pass: the reads from one nap's end until the ring is drained. Its bytes over the time since the last pass
    // ended are the rate the ring fills at.
    let passBytes = 0;
    let lastDrain = performance.now();
    try {
      let next = chunks.next();
      for (;;) {
        const r = await next;
        if (r.done) break;
        const chunk = r.value;
        passBytes += chunk.length;
        // A full read: more is waiting, and the next read goes out now, so the application's serving thread fills it
        // while this one is decoded. A short one drained the ring: the next waits (#napMs), so that the records
        // accumulate in the ring and a pass reads them in a few full reads (each a round trip through the
        // application's serving thread) rather than many small ones.
        // Half counts as full: a read rarely gets all it asked even with more waiting (through the mount, a buffer
        // that is not page-aligned spans 33 pages of the kernel's 32-page limit, so 31 ring pages come back).
        const full = chunk.length >= (PAGES_PER_READ / 2) * PAGE_SIZE;
        if (full) next = chunks.next();
        // A read returns as many whole pages as fit (one round trip for several).
        for (let at = 0; at + PAGE_SIZE <= chunk.length; at += PAGE_SIZE) {
          const page = chunk.subarray(at, at + PAGE_SIZE);
          // Synchronous unless the page has an event not known yet (its format file is read first).
          for (let id = this.#page(decoder, page, true); id >= 0; id = this.#page(decoder, page, false)) {
            await this.instance.descriptor(id);
            decoder.asked.add(id);
          }
        }
        if (!full) {
          const now = performance.now();
          const nap = this.#napMs(passBytes, now - lastDrain);
          passBytes = 0;
          lastDrain = now;
          if (nap > 0 && !this.#hurry.signal.aborted)
            await sleep(nap, undefined, { signal: this.#hurry.signal }).catch(() => {});
          next = chunks.next();
        }
      }
    } catch (e) {
      if (!this.#closed) this.#log(`ntrace ship: cpu${cpu}: ${(e as Error).message}`);
    } finally {
      await chunks.return?.(undefined).catch(() => {});
    }
  }

  /**
   * The pause after a pass that drained a ring, which read `bytes` written over `ms`: the batch time bound (records
   * then wait in the ring rather than in the shipper, and a pass reads many of them in full reads), shortened so
   * that the ring fills to a RING_SHARE-th at that rate (bursts RING_SHARE times faster still fit before the next
   * pass) and to half at the peak rate; at rates where that is under MIN_NAP_MS, none (the reads go back to back).
   */
  #napMs(bytes: number, ms: number): number {
    const fillMs = bytes > 0 ? (this.#ringBytes / RING_SHARE / bytes) * ms : Number.POSITIVE_INFINITY;
    const nap = Math.min(this.#limits.ms, fillMs, this.#ringBytes / 2 / PEAK_BYTES_PER_MS);
    return nap < MIN_NAP_MS ? 0 : nap;
  }

  /**
   * Walks `page` (`first`: a new page; else again, after the record that stopped it). Returns the id of an event
   * whose format must be read before the walk goes on, or -1 when the page is done.
   */
  #page(dec: PageDecoder, page: Uint8Array, first: boolean): number {
    const st = dec.st;
    if (first) {
      this.#readPages++;
      dec.done = 0;
      dec.seq0 = st.seq;
      dec.lastTs = st.lastTs;
      dec.asked.clear();
    }
    dec.skip = dec.done;
    dec.stopAt = -1;
    const sum = walkPage(page, dec);
    if (dec.stopAt >= 0) return dec.stopAt;
    this.#readRecords += sum.records;
    if (sum.missed !== 0) {
      this.#lostRecords += Math.max(sum.missed, 0);
      this.#lostWindows++;
      this.#lostRow(dec.cpu, sum.missed, dec.seq0, dec.lastTs, sum.firstTs, 'overrun', '');
    }
    return -1;
  }

  /** One record into its event's block (called by the page walk; `ev` undefined: an event that is gone). */
  add(dec: PageDecoder, ev: EventDescriptor | undefined, ts: number, page: Uint8Array, at: number, len: number): void {
    const st = dec.st;
    if (st.pid < 0) st.pid = page[at + 4] | (page[at + 5] << 8) | (page[at + 6] << 16) | (page[at + 7] << 24);
    const seq = st.seq++;
    st.lastTs = ts;
    if (!ev) {
      this.#unknown++;
      return;
    }
    const p = this.#pendingFor(ev);
    const d = p.block.data;
    this.#stamp(d[0], d[1], ts);
    d[4].room(4);
    d[4].u32(st.pid);
    d[5].room(4);
    d[5].u32(dec.cpu);
    d[6].room(st.comm.length);
    d[6].bytes(st.comm, 0, st.comm.length);
    d[7].room(8);
    d[7].u64(seq);
    const fields = ev.layout.fields;
    for (let i = 0; i < fields.length; i++) writeField(d[FIELDS_AT + i], fields[i], page, at, len);
    this.#added(p);
  }

  /** common_ts (DateTime) and common_ts_ns (UInt64) of trace-clock `ts`. */
  #stamp(sec: ColumnBuffer, ns: ColumnBuffer, ts: number): void {
    const s = Math.floor(ts / 1e9);
    sec.room(4);
    sec.u32(s + this.#offSec + (ts - s * 1e9 + this.#offNs >= 1e9 ? 1 : 0));
    ns.room(8);
    this.#wallNs(ns, ts);
  }

  /** Wall-clock ns of trace-clock `ts` as a UInt64 (exact: added word by word; 0 when `ts` < 0). */
  #wallNs(out: ColumnBuffer, ts: number): void {
    if (ts < 0) {
      out.u64(0);
      return;
    }
    const tsLo = ts % TWO32;
    let lo = this.#offLo + tsLo;
    let hi = this.#offHi + (ts - tsLo) / TWO32;
    if (lo >= TWO32) {
      lo -= TWO32;
      hi++;
    }
    out.u32(lo);
    out.u32(hi);
  }

  #lostRow(cpu: number, count: number, seq: number, fromTs: number, toTs: number, reason: string, event: string): void {
    const st = this.#cpus.get(cpu);
    let p = this.#pending.get(LOST_TABLE);
    if (!p) {
      p = {
        table: LOST_TABLE,
        event: 'lost',
        ev: undefined,
        block: new NativeBlock(blockColumns(LOST_COLUMNS)),
        since: Date.now(),
      };
      this.#pending.set(LOST_TABLE, p);
    }
    const d = p.block.data;
    for (const c of d) c.room(64);
    d[0].u32(Math.floor(Date.now() / 1000));
    d[3].u32(st?.pid ?? process.pid);
    d[4].u32(Math.max(cpu, 0));
    d[5].string(st?.commText ?? '');
    d[6].u64(seq);
    d[7].u64(count);
    this.#wallNs(d[8], fromTs);
    this.#wallNs(d[9], toTs);
    d[10].string(reason);
    d[11].string(event);
    this.#added(p);
  }

  #pendingFor(ev: EventDescriptor): Pending {
    const p = this.#pendingByEvent.get(ev);
    if (p) return p;
    const table = tableName(ev.system, ev.name);
    const other = this.#pending.get(table);
    if (other?.ev && sameFields(other.ev, ev)) {
      this.#pendingByEvent.set(ev, other);
      return other;
    }
    if (other) this.#flush(other);
    const columns = [...COMMON_COLUMNS, ...eventColumns(ev), ...BATCH_COLUMNS];
    this.#tables.declare(table, columns);
    const n: Pending = {
      table,
      event: `${ev.system}:${ev.name}`,
      ev,
      // Sized like the table's last block: a steady stream fills its buffers without growing them.
      block: new NativeBlock(blockColumns(columns, ev), this.#lastSizes.get(table)),
      since: Date.now(),
    };
    this.#pending.set(table, n);
    this.#pendingByEvent.set(ev, n);
    return n;
  }

  #added(p: Pending): void {
    const b = p.block;
    b.rows++;
    // The byte bound is checked every 256 rows (summing the columns costs more than a row).
    if (b.rows >= this.#limits.rows || ((b.rows & 255) === 0 && b.bytes >= this.#limits.bytes)) this.#flush(p);
  }

  /**
   * Event rows carry the batch's id and size (common_batch, common_batch_rows), so that a batch stored twice is
   * found by counting its rows (docs/SHIP.md, exactly-once).
   */
  #flush(p: Pending): void {
    this.#pending.delete(p.table);
    if (p.ev) {
      for (const [ev, q] of this.#pendingByEvent) if (q === p) this.#pendingByEvent.delete(ev);
      this.#lastSizes.set(p.table, p.block.sizes());
    }
    const rows = p.block.rows;
    if (rows === 0) return;
    const constants = new Map(this.#constants);
    const id = randomBytes(8);
    id[7] &= 0x7f;
    const n = Buffer.alloc(4);
    n.writeUInt32LE(rows);
    constants.set('batch', id).set('batch_rows', n);
    const b: Batch = {
      table: this.#tables.qualified(p.table),
      columns: p.block.columns.map((c) => c.name),
      rows,
      event: p.event,
      format: 'Native',
      body: p.block.encode(constants),
    };
    this.#delivery.submit(b);
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
    this.#hurry.abort();
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

function sameFields(a: EventDescriptor, b: EventDescriptor): boolean {
  const fa = a.layout.fields;
  const fb = b.layout.fields;
  return fa.length === fb.length && fa.every((f, i) => f.name === fb[i].name && f.type === fb[i].type);
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
