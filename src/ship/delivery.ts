/**
 * Delivery of batches: at-least-once, oldest first. A batch goes to one target (the server, or in cluster mode one
 * shard after another, round robin, skipping shards that just failed). While no target can take a batch, batches
 * wait in the spool and one is retried with exponential backoff and jitter; a batch the server refuses (it answered
 * with an exception: bad data) is logged with the server's message, counted and dropped — never retried forever.
 * Everything here runs in the shipper's thread; the application's threads only ever wrote their ring.
 */
import type { ClickHouse } from './clickhouse.js';
import { ServerError } from './clickhouse.js';
import type { Batch, Spool } from './spool.js';

export interface DeliveryCounters {
  shippedRows: number;
  shippedBatches: number;
  refusedRows: number;
  refusedBatches: number;
  retries: number;
  spoolDroppedRows: number;
}

export interface DeliveryOptions {
  readonly targets: readonly ClickHouse[];
  readonly spool: Spool;
  /** Makes sure the batch's table and columns exist on the target (`force`: look again, the server said otherwise). */
  readonly prepare: (target: ClickHouse, b: Batch, force: boolean) => Promise<void>;
  /** Rows the spool dropped to make room: the caller records them as lost. */
  readonly onSpoolDrop: (rows: number, event: string) => void;
  readonly log: (line: string) => void;
  /** Batches held in memory before new ones go to the spool (ClickHouse slower than the events). */
  readonly maxQueued?: number;
  readonly backoffMinMs?: number;
  readonly backoffMaxMs?: number;
}

/** Server answers that a fresh look at the schema can fix (UNKNOWN_TABLE, NO_SUCH_COLUMN_IN_TABLE, UNKNOWN_DATABASE). */
const SCHEMA_CODES = new Set([60, 16, 81]);

type Outcome = 'sent' | 'refused' | 'unreachable';

export class Delivery {
  readonly counters: DeliveryCounters = {
    shippedRows: 0,
    shippedBatches: 0,
    refusedRows: 0,
    refusedBatches: 0,
    retries: 0,
    spoolDroppedRows: 0,
  };
  readonly #o: DeliveryOptions;
  readonly #queue: Batch[] = [];
  readonly #downUntil: number[];
  #rr = 0;
  #pumping: Promise<void> | undefined;
  #down = false;
  #attempt = 0;
  /** Ends the backoff under way at once (stop() calls it). */
  #wake: (() => void) | undefined;
  #stopped = false;

  constructor(o: DeliveryOptions) {
    this.#o = o;
    this.#downUntil = o.targets.map(() => 0);
  }

  /** True while no target answers (batches go to the spool). */
  get down(): boolean {
    return this.#down;
  }
  get queued(): number {
    return this.#queue.length;
  }

  submit(b: Batch): void {
    if (this.#down || this.#o.spool.batches > 0 || this.#queue.length >= (this.#o.maxQueued ?? 4)) this.#spool(b);
    else this.#queue.push(b);
    this.#kick();
  }

  #spool(b: Batch): void {
    for (const d of this.#o.spool.put(b)) {
      this.counters.spoolDroppedRows += d.rows;
      this.#o.onSpoolDrop(d.rows, d.event);
    }
  }

  #kick(): void {
    this.#pumping ??= this.#pump().finally(() => {
      this.#pumping = undefined;
    });
  }

  async #pump(): Promise<void> {
    while (!this.#stopped) {
      const spooled = this.#o.spool.peek();
      const b = spooled ?? this.#queue[0];
      if (!b) return;
      const outcome = await this.#send(b);
      if (outcome !== 'unreachable') {
        if (spooled) this.#o.spool.remove();
        else this.#queue.shift();
        this.#down = false;
        this.#attempt = 0;
        continue;
      }
      // Keep the order: what waits in memory is newer than what waits on disk.
      if (!spooled) for (const q of this.#queue.splice(0)) this.#spool(q);
      this.#down = true;
      this.#attempt++;
      this.counters.retries++;
      const max = this.#o.backoffMaxMs ?? 5000;
      const base = Math.min(max, (this.#o.backoffMinMs ?? 100) * 2 ** Math.min(this.#attempt - 1, 20));
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, base / 2 + Math.random() * (base / 2));
        // Only stop() ends a backoff early: a batch submitted meanwhile waits its turn like the others.
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  async #send(b: Batch): Promise<Outcome> {
    const targets = this.#o.targets;
    const now = Date.now();
    for (let i = 0; i < targets.length; i++) {
      const k = (this.#rr + i) % targets.length;
      // A shard that failed lately is skipped while another may take the batch; the last resort is always tried.
      if (this.#downUntil[k] > now && i < targets.length - 1) continue;
      const outcome = await this.#sendTo(targets[k], b);
      if (outcome === 'unreachable') {
        this.#downUntil[k] = Date.now() + 1000;
        continue;
      }
      this.#downUntil[k] = 0;
      this.#rr = (k + 1) % targets.length;
      return outcome;
    }
    return 'unreachable';
  }

  async #sendTo(target: ClickHouse, b: Batch): Promise<Outcome> {
    for (let force = false; ; force = true) {
      try {
        await this.#o.prepare(target, b, force);
        await target.insert(b.table, b.columns, b.format, b.body);
        this.counters.shippedRows += b.rows;
        this.counters.shippedBatches++;
        return 'sent';
      } catch (e) {
        if (!(e instanceof ServerError) || e.transient) return 'unreachable';
        if (!force && SCHEMA_CODES.has(e.code)) continue;
        this.counters.refusedRows += b.rows;
        this.counters.refusedBatches++;
        this.#o.log(`ntrace ship: ${target.url} refused a batch of ${b.rows} ${b.event} rows: ${e.message}`);
        return 'refused';
      }
    }
  }

  /** Waits until nothing is queued or spooled, or `ms` passed. True when everything went out. */
  async drain(ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (this.#queue.length === 0 && this.#o.spool.batches === 0 && !this.#pumping) return true;
      // Nobody answers: waiting would only delay the exit; the spool keeps the batches for the next run.
      if (this.#down) break;
      this.#kick();
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.#queue.length === 0 && this.#o.spool.batches === 0;
  }

  /** Stops sending; what is still in memory goes to the spool for the next run. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    this.#kick();
    await this.#pumping;
    for (const q of this.#queue.splice(0)) this.#spool(q);
  }
}
