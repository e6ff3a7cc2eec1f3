/**
 * Page allocator over the growable arena SharedArrayBuffer, usable from any thread. Memory is handed out in whole
 * pages; freed extents wait a grace period before reuse, because an emitter that read the ring table a moment ago
 * may still be writing into the ring that was just replaced (there is no RCU here; the grace period stands in).
 */
import { asGrowable } from './growable.js';
import { withLock } from './lock.js';
import { ARENA_PAGE, FREE_MAX, H_ARENA_LOCK, H_ARENA_TOP, H_FREE_COUNT, type SharedState } from './shared-state.js';

const GRACE_SECONDS = 2;

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000) % 0x40000000;
}

/** Allocates `bytes` (rounded up to pages); returns the arena byte offset, or 0 when the arena is exhausted. */
export function arenaAlloc(s: SharedState, bytes: number): number {
  const size = Math.ceil(bytes / ARENA_PAGE) * ARENA_PAGE;
  return withLock(s.header, H_ARENA_LOCK, () => {
    const fl = s.freeList;
    const n = s.header[H_FREE_COUNT];
    const now = nowSeconds();
    let best = -1;
    for (let i = 0; i < n; i++) {
      const ripe = fl[i * 3 + 2];
      if (fl[i * 3 + 1] >= size && (now - ripe + 0x40000000) % 0x40000000 < 0x20000000) {
        if (best < 0 || fl[i * 3 + 1] < fl[best * 3 + 1]) best = i;
      }
    }
    if (best >= 0) {
      const off = fl[best * 3];
      const left = fl[best * 3 + 1] - size;
      if (left > 0) {
        fl[best * 3] = off + size;
        fl[best * 3 + 1] = left;
      } else removeFree(s, best);
      return off;
    }
    const top = s.header[H_ARENA_TOP];
    const arena = asGrowable(s.handles.arena);
    if (top + size > arena.maxByteLength) return 0;
    if (top + size > arena.byteLength) {
      // Grow with headroom so growth (a syscall-ish operation) stays rare.
      const want = Math.min(arena.maxByteLength, Math.max(top + size, arena.byteLength * 2));
      try {
        arena.grow(want);
      } catch {
        return 0;
      }
    }
    s.header[H_ARENA_TOP] = top + size;
    return top;
  });
}

function removeFree(s: SharedState, i: number): void {
  const fl = s.freeList;
  const n = s.header[H_FREE_COUNT] - 1;
  fl[i * 3] = fl[n * 3];
  fl[i * 3 + 1] = fl[n * 3 + 1];
  fl[i * 3 + 2] = fl[n * 3 + 2];
  s.header[H_FREE_COUNT] = n;
}

/** Returns an extent to the allocator; it becomes reusable after the grace period. */
export function arenaFree(s: SharedState, off: number, bytes: number): void {
  const size = Math.ceil(bytes / ARENA_PAGE) * ARENA_PAGE;
  withLock(s.header, H_ARENA_LOCK, () => {
    const n = s.header[H_FREE_COUNT];
    if (n >= FREE_MAX) return; // leak rather than fail: the list only overflows under pathological churn
    const fl = s.freeList;
    fl[n * 3] = off;
    fl[n * 3 + 1] = size;
    fl[n * 3 + 2] = (nowSeconds() + GRACE_SECONDS) % 0x40000000;
    s.header[H_FREE_COUNT] = n + 1;
  });
}
