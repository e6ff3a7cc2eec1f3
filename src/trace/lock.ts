/**
 * A tiny spin lock in a shared Int32 word, for rare operations (defining events, creating instances, allocating
 * rings). Never on the emit fast path. A holder that died (a terminated worker) is broken after a timeout so the
 * engine cannot deadlock.
 */
const STALE_MS = 2000;

export function withLock<T>(words: Int32Array, index: number, fn: () => T): T {
  const owner = (Math.random() * 0x7ffffffe + 1) | 0 || 1;
  let started = 0;
  for (let spins = 0; Atomics.compareExchange(words, index, 0, owner) !== 0; spins++) {
    if (spins < 64) continue;
    const seen = Atomics.load(words, index);
    if (seen === 0) continue;
    if (started === 0) started = Date.now();
    else if (Date.now() - started > STALE_MS) {
      // The holder is gone: take over its lock.
      if (Atomics.compareExchange(words, index, seen, owner) === seen) break;
    }
    Atomics.wait(words, index, seen, 1);
  }
  try {
    return fn();
  } finally {
    Atomics.compareExchange(words, index, owner, 0);
    Atomics.notify(words, index);
  }
}
