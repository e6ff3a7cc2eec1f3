/**
 * The doorbell: one Int32 word in a SharedArrayBuffer that any thread can ring to make the FUSE serving thread run
 * its wake callbacks and settle parked requests, although that thread spends its life blocked in read(2).
 *
 * Ringing is `Atomics.add(word, 1)` + `Atomics.notify(word)`. The mount's helper thread sleeps in Atomics.wait on the
 * word; when it changes, the helper looks up a reserved name on the mount, which the kernel always forwards to the
 * server, and that request is what makes the server's read return. Rings during a wake-up coalesce.
 *
 * The word can be the mount's own (the default) or any word the caller already rings, e.g. a trace engine's wake
 * word in its shared memory: then emitters wake the mount directly, with no thread in between.
 */

/** Where the doorbell word lives. */
export interface DoorbellWord {
  readonly buffer: SharedArrayBuffer;
  /** Index of the Int32 word in `buffer`. */
  readonly index: number;
}

/**
 * Int32 slots of a mount's control buffer: its own doorbell word (used when none is given), the stop flag, how
 * many invalidations the helper has written so far, and STOPPED: 1 once the serving thread has left its loop and
 * closed its end of the connection (so nothing can wait on the mount any more), notified for synchronous waiters.
 */
export const OWN_RING = 0;
export const STOP = 1;
export const NOTES_WRITTEN = 2;
export const STOPPED = 3;
const CONTROL_SLOTS = 4;

/** The name the helper looks up to wake the server. Never listed, never cached, always ENOENT. */
export const WAKE_NAME = '.ntrace-doorbell';

export function createControl(): SharedArrayBuffer {
  return new SharedArrayBuffer(CONTROL_SLOTS * 4);
}

/** Ring from any thread: two atomic operations. */
export function ringDoorbell(buffer: SharedArrayBuffer, index = 0): void {
  const words = new Int32Array(buffer);
  Atomics.add(words, index, 1);
  Atomics.notify(words, index);
}

/**
 * Ring for something that waits for its answer (a socket request): the `urgent` word changes first, so the helper
 * wakes the server at once instead of keeping the wake gap that batches a steady stream of the engine's rings.
 */
export function ringUrgent(urgent: DoorbellWord, bell: DoorbellWord): void {
  const words = new Int32Array(urgent.buffer);
  Atomics.add(words, urgent.index, 1);
  Atomics.notify(words, urgent.index); // ends a gap the helper is waiting out
  ringDoorbell(bell.buffer, bell.index);
}
