/**
 * The mount's helper thread. It sleeps in Atomics.wait on the doorbell and does the two things the serving thread
 * must not do itself:
 * - wake it: a lookup of the reserved doorbell name makes the server's blocking read return;
 * - send cache invalidations: the kernel may block such a write until a request it has queued for the server is
 *   answered, so the serving thread writing it would deadlock.
 */
import { statSync, writeSync } from 'node:fs';
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { RING, SEQ, STOP } from './doorbell.js';

export interface HelperWorkerData {
  readonly fd: number;
  readonly doorbell: SharedArrayBuffer;
  /** Path whose lookup reaches the server: `/proc/self/fd/<open root>/<WAKE_NAME>` (works after a lazy unmount). */
  readonly wakePath: string;
  readonly notePort: MessagePort;
}

const { fd, doorbell, wakePath, notePort } = workerData as HelperWorkerData;
const words = new Int32Array(doorbell);
// Rings that came before this thread started count too: start from "never served".
let lastRing = 0;
parentPort?.postMessage('ready');

for (;;) {
  const seq = Atomics.load(words, SEQ);
  for (;;) {
    const m = receiveMessageOnPort(notePort);
    if (!m) break;
    try {
      writeSync(fd, m.message as Uint8Array);
    } catch {
      // ENOENT: the kernel no longer knows that inode or name; nothing was cached, nothing to invalidate.
    }
  }
  if (Atomics.load(words, STOP) !== 0) break;
  const ring = Atomics.load(words, RING);
  if (ring !== lastRing) {
    lastRing = ring;
    try {
      statSync(wakePath, { throwIfNoEntry: false });
    } catch {
      // the mount is going away
    }
    continue;
  }
  Atomics.wait(words, SEQ, seq);
}
notePort.close();
