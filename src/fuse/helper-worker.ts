/**
 * The mount's helper thread. It sleeps in Atomics.wait on the doorbell and does the two things the serving thread
 * must not do itself:
 * - wake it: a lookup of the reserved doorbell name makes the server's blocking read return;
 * - send cache invalidations: the kernel may block such a write until a request it has queued for the server is
 *   answered, so the serving thread writing it would deadlock.
 */
import { statSync, writeSync } from 'node:fs';
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { type DoorbellWord, NOTES_WRITTEN, STOP } from './doorbell.js';

export interface HelperWorkerData {
  readonly fd: number;
  readonly bell: DoorbellWord;
  readonly control: SharedArrayBuffer;
  /** Path whose lookup reaches the server: `/proc/self/fd/<open root>/<WAKE_NAME>` (works after a lazy unmount). */
  readonly wakePath: string;
  readonly notePort: MessagePort;
}

const { fd, bell, control, wakePath, notePort } = workerData as HelperWorkerData;
const words = new Int32Array(bell.buffer);
const stop = new Int32Array(control);
// Rings that came before this thread started count too: the first pass always wakes the server once.
let lastRing: number | undefined;
parentPort?.postMessage('ready');

for (;;) {
  const ring = Atomics.load(words, bell.index);
  // Notifications are queued with a ring too (they are rare): drain them before the wake lookup.
  for (;;) {
    const m = receiveMessageOnPort(notePort);
    if (!m) break;
    try {
      writeSync(fd, m.message as Uint8Array);
    } catch {
      // ENOENT: the kernel no longer knows that inode or name; nothing was cached, nothing to invalidate.
    }
    Atomics.add(stop, NOTES_WRITTEN, 1); // seen by the server at the wake-up this loop ends with
  }
  if (Atomics.load(stop, STOP) !== 0) break;
  if (ring !== lastRing) {
    lastRing = ring;
    try {
      statSync(wakePath, { throwIfNoEntry: false });
    } catch {
      // the mount is going away
    }
    continue;
  }
  Atomics.wait(words, bell.index, ring);
}
notePort.close();
