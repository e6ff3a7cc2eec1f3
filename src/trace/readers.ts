/**
 * Readers over an instance's per-thread rings, usable from any thread: records come out merged by timestamp
 * (the smallest head among all CPUs first) as TraceRecords. New CPUs (threads that start emitting) and replaced
 * rings (buffer resize) are picked up every 64 records and whenever the known rings run dry.
 */
import { type Context, context } from './context.js';
import { isLiveInstance, validInstanceIndex } from './instances.js';
import type { TraceRecord } from './record.js';
import { openRing } from './ring.js';
import { RingCursor } from './ring-cursor.js';
import { I_WAITERS, INST_WORDS, MAX_CPUS } from './shared-state.js';
import { cpuCount, foreignComm } from './threads.js';

/**
 * The one record a `reuse` reader hands out again and again. Its BigInt timestamp is made only when asked for:
 * the text path reads `tsNs`.
 */
class RecordSlot implements TraceRecord {
  cpu = 0;
  tsNs = 0;
  id = 0;
  event: TraceRecord['event'] = undefined;
  data: Uint8Array = new Uint8Array(0);
  comm = '';
  pid = 0;
  get ts(): bigint {
    return BigInt(this.tsNs);
  }
}

/** How a reader hands out records. */
export interface ReaderOptions {
  /**
   * One record object (and its bytes) reused for every record, valid until the next call: for readers that format
   * each record at once (trace, trace_pipe), which then allocate nothing per record. Off: every record is its own.
   */
  readonly reuse?: boolean;
}

abstract class MergedReader {
  readonly instance: number;
  /** Only this CPU, or all when undefined (per_cpu/cpuN files). */
  readonly cpu: number | undefined;
  protected readonly ctx: Context;
  protected readonly cursors: Array<RingCursor | undefined> = [];
  private readonly consume: boolean;
  private readonly slot: RecordSlot | undefined;

  constructor(instance: number, cpu: number | undefined, consume: boolean, options: ReaderOptions = {}) {
    this.ctx = context();
    this.instance = instance;
    this.cpu = cpu;
    this.consume = consume;
    if (options.reuse) this.slot = new RecordSlot();
    this.refreshRings();
  }

  /** Adopts rings that appeared or were replaced since the last call. */
  protected refreshRings(): void {
    const s = this.ctx.s;
    if (!validInstanceIndex(this.instance)) return;
    const n = cpuCount(s);
    const from = this.cpu ?? 0;
    const to = this.cpu === undefined ? n : Math.min(n, this.cpu + 1);
    if (!Number.isInteger(from) || from < 0) return;
    for (let cpu = from; cpu < to; cpu++) {
      const base = Atomics.load(s.ringTable, this.instance * MAX_CPUS + cpu);
      const c = this.cursors[cpu];
      if (c && c.v.base === base && c.valid()) continue;
      if (base === 0) {
        this.cursors[cpu] = undefined;
        continue;
      }
      const v = openRing(s, base);
      this.cursors[cpu] = v ? new RingCursor(v, cpu, this.consume, this.slot !== undefined) : undefined;
    }
  }

  /** The cursor with the oldest available record, or undefined. */
  protected oldest(): RingCursor | undefined {
    let best: RingCursor | undefined;
    let bestTs = 0;
    for (const c of this.cursors) {
      if (!c) continue;
      const r = c.peek();
      if (r && (!best || r.ts < bestTs)) {
        best = c;
        bestTs = r.ts;
      }
    }
    return best;
  }

  protected toRecord(cpu: number, ts: number, data: Uint8Array): TraceRecord {
    const id = data.length >= 2 ? data[0] | (data[1] << 8) : 0;
    const pid = data.length >= 8 ? data[4] | (data[5] << 8) | (data[6] << 16) | (data[7] << 24) : 0;
    const slot = this.slot;
    if (slot) {
      slot.cpu = cpu;
      slot.tsNs = ts;
      slot.id = id;
      slot.event = this.ctx.registry.get(id);
      slot.data = data;
      slot.comm = foreignComm(pid) ?? this.ctx.names.name(cpu);
      slot.pid = pid;
      return slot;
    }
    return {
      cpu,
      ts: BigInt(ts),
      id,
      event: this.ctx.registry.get(id),
      data,
      comm: foreignComm(pid) ?? this.ctx.names.name(cpu),
      pid,
    };
  }

  /** Records handed out since the instance and its rings were last looked at. */
  private sinceRefresh = 0;

  /**
   * The next record, or undefined when none is available now. The instance's liveness and its set of rings are
   * looked at every 64 records and whenever the known rings run dry, not for every record (a reader draining a
   * million records spent a tenth of its time there); a ring replaced meanwhile is caught by its cursor's check.
   */
  next(): TraceRecord | undefined {
    let fresh = this.sinceRefresh === 0 || this.sinceRefresh >= 64;
    if (fresh) {
      if (!isLiveInstance(this.ctx.s, this.instance)) return undefined;
      this.refreshRings();
      this.sinceRefresh = 1;
    } else this.sinceRefresh++;
    for (let tries = 0; tries < 1000; tries++) {
      const c = this.oldest();
      if (!c) {
        // Dry: the next call looks again first.
        this.sinceRefresh = 0;
        if (fresh) return undefined;
        // Nothing in the rings known: look again at the instance and its rings before saying so.
        if (!isLiveInstance(this.ctx.s, this.instance)) return undefined;
        this.refreshRings();
        this.sinceRefresh = 1;
        fresh = true;
        continue;
      }
      const r = c.peek();
      if (r && c.take()) return this.toRecord(r.cpu, r.ts, r.data);
    }
    return undefined;
  }

  /** Timestamp of the next record without taking it (for merging or `stats`). */
  peekTs(): number | undefined {
    this.refreshRings();
    const c = this.oldest();
    return c?.peek()?.ts;
  }

  /** The records until none is available. A plain iterator, not a generator: `trace` walks millions with it. */
  [Symbol.iterator](): Iterator<TraceRecord> {
    return {
      next: (): IteratorResult<TraceRecord> => {
        const r = this.next();
        return r === undefined ? { value: undefined, done: true } : { value: r, done: false };
      },
    };
  }
}

/**
 * The `trace` file: a non-consuming pass over what the buffers hold now (records written after it was opened
 * are not shown, except those of threads that started emitting meanwhile).
 */
export class TraceIterator extends MergedReader {
  constructor(instance: number, cpu?: number, options?: ReaderOptions) {
    super(instance, cpu, false, options);
  }
}

/**
 * The `trace_pipe` file: consumes records; its position is shared (another consumer continues where it stopped).
 * `hasData` is cheap enough for poll; `armWakeup` + the doorbell implement blocking reads (see wake.ts).
 */
export class ConsumingReader extends MergedReader {
  constructor(instance: number, cpu?: number, options?: ReaderOptions) {
    super(instance, cpu, true, options);
  }

  /** Whether a record is available now. */
  hasData(): boolean {
    if (!isLiveInstance(this.ctx.s, this.instance)) return false;
    this.refreshRings();
    return this.oldest() !== undefined;
  }

  /**
   * Asks emitters of this instance to ring the doorbell at their next record (one-shot). Call it, then check
   * `hasData()`, then sleep on the doorbell value read before arming: no wake-up can be lost.
   */
  armWakeup(): void {
    if (validInstanceIndex(this.instance))
      Atomics.store(this.ctx.s.instances, this.instance * INST_WORDS + I_WAITERS, 1);
  }
}
