/**
 * The doorbell: one SharedArrayBuffer any thread can ring to make the FUSE serving thread run its wake callbacks
 * and settle parked requests, although that thread spends its life blocked in read(2) on /dev/fuse.
 *
 * Ringing bumps a counter and wakes the mount's helper thread (Atomics.notify); the helper then performs a lookup
 * of a reserved name on the mount, which the kernel always forwards to the server (it is never cached), and that
 * request is what makes the server's read return.
 */

/** Int32 slots of the doorbell buffer. */
export const RING = 0; // bumped by every ring
export const SEQ = 1; // bumped by every ring and every queued notification: what the helper waits on
export const STOP = 2; // set once when the mount shuts down
export const SLOTS = 4;

/** The name the helper looks up to wake the server. Never listed, never cached, always ENOENT. */
export const WAKE_NAME = '.ntrace-doorbell';

export function createDoorbell(): SharedArrayBuffer {
  return new SharedArrayBuffer(SLOTS * 4);
}

/** Ring from any thread. Cheap (two atomic adds and a notify); rings that arrive during a wake-up coalesce. */
export function ringDoorbell(doorbell: SharedArrayBuffer): void {
  const words = new Int32Array(doorbell);
  Atomics.add(words, RING, 1);
  Atomics.add(words, SEQ, 1);
  Atomics.notify(words, SEQ);
}

/** Tells the helper there is work other than a ring (notifications queued for it). */
export function nudgeHelper(words: Int32Array): void {
  Atomics.add(words, SEQ, 1);
  Atomics.notify(words, SEQ);
}
