/**
 * Histogram storage in one SharedArrayBuffer, readable by the filesystem thread while emitting threads are blocked or
 * still writing. Design: one region per writer ("CPU" = emitting thread's ring index), each a single-writer
 * open-addressing hash table; the reader merges regions by key. No locks, no atomics on the hot path except one
 * load (pause/clear generation) and one store to publish a new entry:
 *
 *   control header   Int32 paused, Int32 clearGen, Int32 overflowDrops (writers beyond the region count)
 *   region r         Int32 count (entries published), Int32 seenGen, Float64 hits, Float64 drops,
 *                    Int32 slot[2 × max] (entry index + 1; writer-private), Int32 slotHash[2 × max],
 *                    entries[max] = key bytes | Float64 sums[1 + vals] | comm[16]
 *
 * A new entry is written completely, then `count` is stored with Atomics.store: readers read entries below `count`.
 * Sums are doubles (exact while |sum| < 2^53; printed modulo 2^64 like the kernel's u64). `:clear` bumps clearGen;
 * each writer empties its own region on its next update and readers ignore regions not yet at the current
 * generation. The SharedArrayBuffer is sized for every region up front but memory is only committed for the regions
 * (pages) actually written, so idle threads cost address space, not RSS.
 */

const CTRL_BYTES = 16;
const C_PAUSED = 0;
const C_CLEAR_GEN = 1;
const C_OVERFLOW = 2;
const REGION_HDR = 32;

export interface HistTableShape {
  /** Bytes of the key (numeric keys take 8 each, string keys their size), multiple of 8. */
  readonly keyBytes: number;
  /** hitcount + vals. */
  readonly nSums: number;
  readonly comm: boolean;
  /** Entries per region (the `size=` of the trigger). */
  readonly maxEntries: number;
  /** Number of writer regions. */
  readonly regions: number;
}

export interface HistEntry {
  readonly key: Uint8Array;
  readonly sums: number[];
  readonly comm: string;
}

export interface HistSnapshot {
  readonly entries: HistEntry[];
  readonly hits: number;
  readonly drops: number;
}

function regionLayout(s: HistTableShape) {
  const cap = s.maxEntries * 2;
  const slots = REGION_HDR;
  const hashes = slots + cap * 4;
  const entries = (hashes + cap * 4 + 7) & ~7;
  const entrySize = s.keyBytes + s.nSums * 8 + (s.comm ? 16 : 0);
  const size = (entries + s.maxEntries * entrySize + 4095) & ~4095;
  return { cap, slots, hashes, entries, entrySize, size };
}

export function histTableBytes(s: HistTableShape): number {
  return CTRL_BYTES + regionLayout(s).size * s.regions;
}

const latin1 = new TextDecoder('latin1');

export class HistTable {
  readonly sab: SharedArrayBuffer;
  private readonly ctrl: Int32Array;
  private readonly layout: ReturnType<typeof regionLayout>;
  private readonly writers: (HistWriter | undefined)[] = [];

  constructor(
    readonly shape: HistTableShape,
    sab?: SharedArrayBuffer,
  ) {
    this.layout = regionLayout(shape);
    this.sab = sab ?? new SharedArrayBuffer(histTableBytes(shape));
    this.ctrl = new Int32Array(this.sab, 0, CTRL_BYTES / 4);
  }

  get paused(): boolean {
    return Atomics.load(this.ctrl, C_PAUSED) !== 0;
  }
  setPaused(p: boolean): void {
    Atomics.store(this.ctrl, C_PAUSED, p ? 1 : 0);
  }
  /** `:clear`: every region empties itself on its writer's next update; readers see it empty at once. */
  clear(): void {
    Atomics.add(this.ctrl, C_CLEAR_GEN, 1);
  }

  /** The writer of one region (the emitting thread whose ring index is `region`); undefined beyond the last. */
  writer(region: number): HistWriter | undefined {
    if (region < 0 || region >= this.shape.regions || !Number.isInteger(region)) return undefined;
    let w = this.writers[region];
    if (!w) {
      w = new HistWriter(this, this.sab, CTRL_BYTES + region * this.layout.size, this.layout, this.ctrl);
      this.writers[region] = w;
    }
    return w;
  }

  /** A hit from a thread that has no region: counted as dropped. */
  overflow(): void {
    Atomics.add(this.ctrl, C_OVERFLOW, 1);
  }

  /** Merged content of all regions (reader side; any thread). */
  snapshot(): HistSnapshot {
    const { keyBytes, nSums, comm } = this.shape;
    const gen = Atomics.load(this.ctrl, C_CLEAR_GEN);
    const merged = new Map<string, { key: Uint8Array; sums: number[]; comm: string }>();
    let hits = 0;
    let drops = Atomics.load(this.ctrl, C_OVERFLOW);
    const u8 = new Uint8Array(this.sab, 0, histTableBytes(this.shape));
    for (let r = 0; r < this.shape.regions; r++) {
      const base = CTRL_BYTES + r * this.layout.size;
      const hdr = new Int32Array(this.sab, base, 2);
      const count = Atomics.load(hdr, 0);
      if (count === 0 && Atomics.load(hdr, 1) === 0 && gen === 0) continue;
      if (Atomics.load(hdr, 1) !== gen) continue;
      const f64 = new Float64Array(this.sab, base + 8, 2);
      hits += f64[0];
      drops += f64[1];
      for (let i = 0; i < count; i++) {
        const at = base + this.layout.entries + i * this.layout.entrySize;
        const key = u8.slice(at, at + keyBytes);
        const sums = Array.from(new Float64Array(this.sab, at + keyBytes, nSums));
        const id = latin1.decode(key);
        let c = '';
        if (comm) {
          const cb = u8.subarray(at + keyBytes + nSums * 8, at + keyBytes + nSums * 8 + 16);
          const end = cb.indexOf(0);
          c = Buffer.from(cb.subarray(0, end < 0 ? 16 : end)).toString('utf8');
        }
        const m = merged.get(id);
        if (m) for (let k = 0; k < nSums; k++) m.sums[k] += sums[k];
        else merged.set(id, { key, sums, comm: c });
      }
    }
    return { entries: [...merged.values()], hits, drops };
  }
}

/** Single-writer side of one region. Not thread-safe by design: only its emitting thread calls it. */
export class HistWriter {
  private readonly hdr: Int32Array;
  private readonly stats: Float64Array;
  private readonly slots: Int32Array;
  private readonly hashes: Int32Array;
  private readonly keys32: Uint32Array;
  private readonly u8: Uint8Array;
  private readonly f64: Float64Array;
  private readonly mask: number;
  private readonly keyWords: number;
  private readonly entryWords: number;
  private readonly entryBase: number;
  private readonly sumOffset: number;
  private seenGen: number;
  /** Words of `key` the last caller may have left non-zero. */
  dirtyWords = 0;
  /** Scratch key the caller fills before `hit()`. */
  readonly key: Uint32Array;
  readonly keyBytes: Uint8Array;

  constructor(
    readonly table: HistTable,
    sab: SharedArrayBuffer,
    base: number,
    l: ReturnType<typeof regionLayout>,
    private readonly ctrl: Int32Array,
  ) {
    const s = table.shape;
    this.hdr = new Int32Array(sab, base, 2);
    this.stats = new Float64Array(sab, base + 8, 2);
    this.slots = new Int32Array(sab, base + l.slots, l.cap);
    this.hashes = new Int32Array(sab, base + l.hashes, l.cap);
    // Views of the region's length: over a growable buffer (the control plane's pool) a view without one would
    // track the buffer's length, which V8 reads several times slower.
    this.keys32 = new Uint32Array(sab, base, l.size >> 2);
    this.u8 = new Uint8Array(sab, base, l.size);
    this.f64 = new Float64Array(sab, base, l.size >> 3);
    this.mask = l.cap - 1;
    this.keyWords = s.keyBytes >> 2;
    this.entryWords = l.entrySize >> 2;
    this.entryBase = l.entries;
    this.sumOffset = s.keyBytes;
    this.seenGen = Atomics.load(this.hdr, 1);
    this.key = new Uint32Array(this.keyWords);
    this.keyBytes = new Uint8Array(this.key.buffer);
  }

  private reset(gen: number): void {
    Atomics.store(this.hdr, 0, 0);
    this.slots.fill(0);
    this.stats[0] = 0;
    this.stats[1] = 0;
    this.seenGen = gen;
    Atomics.store(this.hdr, 1, gen);
  }

  /**
   * Adds one hit for the key in `this.key`: returns the index of the entry's first sum in `f64` (so the caller adds
   * its values), or -1 when paused or dropped (table full). `comm` fills the execname of a new entry.
   */
  hit(hash: number, comm: string | undefined, cmpWords: number = this.keyWords): number {
    const gen = Atomics.load(this.ctrl, C_CLEAR_GEN);
    if (gen !== this.seenGen) this.reset(gen);
    const kw = cmpWords;
    const key = this.key;
    let idx = hash & this.mask;
    for (;;) {
      const e = this.slots[idx];
      if (e === 0) break;
      if (this.hashes[idx] === hash) {
        const at = (this.entryBase >> 2) + (e - 1) * this.entryWords;
        let same = true;
        for (let k = 0; k < kw; k++) {
          if (this.keys32[at + k] !== key[k]) {
            same = false;
            break;
          }
        }
        if (same) {
          this.stats[0]++;
          const s = (this.entryBase + (e - 1) * this.entryWords * 4 + this.sumOffset) >> 3;
          this.f64[s]++;
          return s;
        }
      }
      idx = (idx + 1) & this.mask;
    }
    const count = this.hdr[0];
    if (count >= this.table.shape.maxEntries) {
      this.stats[1]++;
      return -1;
    }
    const at = (this.entryBase >> 2) + count * this.entryWords;
    for (let k = 0; k < this.keyWords; k++) this.keys32[at + k] = key[k];
    const s = (this.entryBase + count * this.entryWords * 4 + this.sumOffset) >> 3;
    const n = this.table.shape.nSums;
    this.f64[s] = 1;
    for (let k = 1; k < n; k++) this.f64[s + k] = 0;
    if (this.table.shape.comm) {
      const cAt = this.entryBase + count * this.entryWords * 4 + this.sumOffset + n * 8;
      const dst = this.u8.subarray(cAt, cAt + 16);
      dst.fill(0);
      if (comm) new TextEncoder().encodeInto(comm, dst.subarray(0, 15));
    }
    this.slots[idx] = count + 1;
    this.hashes[idx] = hash;
    this.stats[0]++;
    Atomics.store(this.hdr, 0, count + 1);
    return s;
  }

  /** Adds a value to sum `k` (1..vals) of the entry `hit()` returned. */
  add(sumIndex: number, k: number, v: number): void {
    this.f64[sumIndex + k] += v;
  }
}
