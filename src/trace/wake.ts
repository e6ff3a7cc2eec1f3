/**
 * Wake-ups for readers in other threads (the filesystem thread). A reader arms a one-shot "waiters" word (per
 * instance, or for the registry), then sleeps on a doorbell word; the emitter, after committing a record, sees the
 * armed word (a plain load: free when nobody waits), disarms it and rings the doorbell: Atomics.add + notify.
 *
 * The doorbell is the engine's own word by default; `setWakeTarget` points every thread at another word, which must
 * live in the engine's shared memory (see `allocateSharedWords`) because emitters in other threads can only reach
 * memory they share.
 */
import { arenaAlloc } from './arena.js';
import {
  H_DOORBELL,
  H_REG_WAITERS,
  H_WAKE_INDEX,
  H_WAKE_KIND,
  HEADER_WORDS,
  type SharedState,
  shared,
} from './shared-state.js';

const KIND_ENGINE = 0;
const KIND_CONTROL = 1;
const KIND_ARENA = 2;

/** Rings the configured doorbell (bump + notify all). */
export function ringDoorbell(s: SharedState): void {
  const kind = s.header[H_WAKE_KIND];
  if (kind === KIND_ARENA) {
    const i = s.header[H_WAKE_INDEX];
    const a = s.arenaI32;
    if (i > 0 && i < a.length) {
      Atomics.add(a, i, 1);
      Atomics.notify(a, i);
      return;
    }
  } else if (kind === KIND_CONTROL) {
    const i = s.header[H_WAKE_INDEX];
    if (i > 0 && i < HEADER_WORDS) {
      Atomics.add(s.header, i, 1);
      Atomics.notify(s.header, i);
      return;
    }
  }
  Atomics.add(s.header, H_DOORBELL, 1);
  Atomics.notify(s.header, H_DOORBELL);
}

/**
 * Rings the doorbell if someone armed the registry wake-up (`armRegistryWakeup`): the event set, the instance set or
 * the set of CPUs changed. A plain load first: free while nobody listens.
 */
export function wakeRegistryWatchers(s: SharedState): void {
  if (s.header[H_REG_WAITERS] !== 0 && Atomics.exchange(s.header, H_REG_WAITERS, 0) !== 0) ringDoorbell(s);
}

/** The doorbell word emitters ring by default: wait on `words[index]` with Atomics.wait / waitAsync. */
export function engineDoorbell(): { words: Int32Array; index: number } {
  return { words: shared().header, index: H_DOORBELL };
}

/**
 * Allocates `count` Int32 words in shared memory every thread of the process can reach (e.g. a FUSE loop's
 * doorbell). Returns undefined when shared memory is exhausted. The words are never freed.
 */
export function allocateSharedWords(count: number): Int32Array | undefined {
  const s = shared();
  const n = Math.max(1, Math.min(1024, Math.floor(count)));
  const off = arenaAlloc(s, n * 4);
  if (off === 0) return undefined;
  return new Int32Array(s.handles.arena, off, n);
}

/**
 * Makes every thread's emitters ring `words[index]` instead of the engine's doorbell. `words` must come from
 * `allocateSharedWords` or `engineDoorbell`; returns false otherwise. `setWakeTarget(undefined)` restores the default.
 */
export function setWakeTarget(words: Int32Array | undefined, index = 0): boolean {
  const s = shared();
  if (words === undefined) {
    s.header[H_WAKE_KIND] = KIND_ENGINE;
    return true;
  }
  if (!Number.isInteger(index) || index < 0 || index >= words.length) return false;
  const abs = (words.byteOffset >> 2) + index;
  if (words.buffer === s.handles.arena) {
    s.header[H_WAKE_INDEX] = abs;
    Atomics.store(s.header, H_WAKE_KIND, KIND_ARENA);
    return true;
  }
  if (words.buffer === s.handles.control && abs < HEADER_WORDS) {
    s.header[H_WAKE_INDEX] = abs;
    Atomics.store(s.header, H_WAKE_KIND, KIND_CONTROL);
    return true;
  }
  return false;
}
