/**
 * A map from inode number to value for the inode table: open addressing with linear probing over a Float64Array of
 * keys, grown by doubling at half full, shrunk (to four slots a key) only once fewer than 1/16 of its slots are used.
 * The table's size swings with the kernel's caches: a cold walk of a tracefs-sized tree takes it from a few entries
 * to ~19 k, and drop_caches (or memory pressure) forgets them all again. A V8 Map reallocates its table at every
 * doubling and every halving, the large ones as large objects; in-process, a cold walk of the kernel-sized tree
 * (lookup, then forget of everything) cost 1.38-1.51 µs per lookup+forget with a Map and 0.93-0.96 µs with this.
 * Never shrinking would make it 0.35 µs, but the memory of a forgotten walk must go back (bench:kernfs-memory).
 *
 * Keys are inode numbers: integers in 1..2^53 (0 marks an empty slot).
 */
const MIN_CAPACITY = 64;
/** Shrink when fewer than 1/2^SHRINK_AT_LOG2 of the slots are used, to 4 slots per key. */
const SHRINK_AT_LOG2 = 4;

export class InoMap<V> {
  private keys = new Float64Array(MIN_CAPACITY);
  private values: (V | undefined)[] = new Array<V | undefined>(MIN_CAPACITY).fill(undefined);
  /** 32 - log2(capacity): the hash's top bits index the table. */
  private shift = 32 - Math.log2(MIN_CAPACITY);
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(ino: number): V | undefined {
    const keys = this.keys;
    const mask = keys.length - 1;
    for (let i = this.home(ino); ; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === ino) return this.values[i];
      if (k === 0) return undefined;
    }
  }

  has(ino: number): boolean {
    return this.get(ino) !== undefined;
  }

  /** Sets `ino` to `value` (never undefined). */
  set(ino: number, value: V): void {
    if (2 * (this.count + 1) > this.keys.length) this.grow();
    const keys = this.keys;
    const mask = keys.length - 1;
    for (let i = this.home(ino); ; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === ino) {
        this.values[i] = value;
        return;
      }
      if (k === 0) {
        keys[i] = ino;
        this.values[i] = value;
        this.count++;
        return;
      }
    }
  }

  delete(ino: number): void {
    const keys = this.keys;
    const values = this.values;
    const mask = keys.length - 1;
    let hole = this.home(ino);
    for (; ; hole = (hole + 1) & mask) {
      const k = keys[hole];
      if (k === ino) break;
      if (k === 0) return;
    }
    // Backward-shift deletion: move up every later key of the run whose home is not between the hole and it, so
    // no lookup ever meets an empty slot before its key (no tombstones to clean up).
    for (let j = (hole + 1) & mask; keys[j] !== 0; j = (j + 1) & mask) {
      const home = this.home(keys[j]);
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (!stays) {
        keys[hole] = keys[j];
        values[hole] = values[j];
        hole = j;
      }
    }
    keys[hole] = 0;
    values[hole] = undefined;
    this.count--;
    if (this.count < keys.length >> SHRINK_AT_LOG2 && keys.length > MIN_CAPACITY) this.resize(this.count * 4);
  }

  /** The keys, as a snapshot (callers may change the map while they go through it). */
  keyList(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== 0) out.push(this.keys[i]);
    return out;
  }

  /** The values, as a snapshot. */
  valueList(): V[] {
    const out: V[] = [];
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== 0) out.push(this.values[i] as V);
    return out;
  }

  /** Fibonacci hashing of the number (its low 30 bits xor the bits above them); the top bits pick the slot. */
  private home(ino: number): number {
    const mixed = (ino % 0x4000_0000) ^ Math.floor(ino / 0x4000_0000);
    return Math.imul(mixed, 0x9e37_79b1) >>> this.shift;
  }

  private grow(): void {
    this.resize(this.keys.length * 2);
  }

  /** Rehash into the power-of-two capacity at or above `atLeast` (and MIN_CAPACITY). */
  private resize(atLeast: number): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    let capacity = MIN_CAPACITY;
    while (capacity < atLeast) capacity *= 2;
    this.keys = new Float64Array(capacity);
    this.values = new Array<V | undefined>(capacity).fill(undefined);
    this.shift = 32 - Math.log2(capacity);
    this.count = 0;
    for (let i = 0; i < oldKeys.length; i++) if (oldKeys[i] !== 0) this.set(oldKeys[i], oldValues[i] as V);
  }
}
