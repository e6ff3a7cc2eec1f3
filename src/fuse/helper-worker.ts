/**
 * The mount's helper thread. It sleeps in Atomics.wait on the doorbell and does the two things the serving thread
 * must not do itself:
 * - wake it: a lookup of the reserved doorbell name makes the server's blocking read return;
 * - send cache invalidations: the kernel may block such a write until a request it has queued for the server is
 *   answered, so the serving thread writing it would deadlock.
 * It is also the only thread that touches the mount from inside the process: it opens the mount's root (so wake
 * lookups work after a lazy unmount) and makes the last lookup that lets the server see STOP. A request to our own
 * mount can wait forever if the whole process dies while the server holds it; the watchdog ends the connection then.
 */
import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { type DoorbellWord, NOTES_WRITTEN, STOP, STOPPED, WAKE_NAME } from './doorbell.js';

export interface HelperWorkerData {
  readonly fd: number;
  readonly bell: DoorbellWord;
  /** Rung (with `ringUrgent`) for rings whose sender waits for the answer: no wake gap for those. */
  readonly urgent: DoorbellWord | undefined;
  readonly control: SharedArrayBuffer;
  readonly mountpoint: string;
  readonly notePort: MessagePort;
}

const { fd, bell, urgent, control, mountpoint, notePort } = workerData as HelperWorkerData;
/** The shortest time between two wake-ups of the serving thread. */
const WAKE_GAP_MS = 4;
const words = new Int32Array(bell.buffer);
const state = new Int32Array(control);
/** What the gap is waited out on: the urgent word (an urgent ring ends the wait at once), else the STOP slot. */
const gapWords = urgent ? new Int32Array(urgent.buffer) : state;
const gapIndex = urgent ? urgent.index : STOP;

/** One lookup through the open root, unless the server is already gone (then nothing would answer it). */
function wake(path: string): void {
  if (Atomics.load(state, STOPPED) !== 0) return;
  try {
    statSync(path, { throwIfNoEntry: false });
  } catch {
    // the mount is going away
  }
}

let rootFd: number;
try {
  rootFd = openSync(mountpoint, 'r');
} catch (err) {
  parentPort?.postMessage({ failed: (err as Error).message });
  process.exit(0);
}
// /proc/self/fd/N/name resolves through our open root, so it reaches the server after a lazy unmount too.
const wakePath = join(`/proc/self/fd/${rootFd}`, WAKE_NAME);
// Rings that came before this thread started count too: the first pass always wakes the server once.
let lastRing: number | undefined;
let lastWakeAt = Number.NEGATIVE_INFINITY;
let lastUrgent = Atomics.load(gapWords, gapIndex);
parentPort?.postMessage({ ready: true });

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
    Atomics.add(state, NOTES_WRITTEN, 1); // seen by the server at the wake-up this loop ends with
  }
  if (Atomics.load(state, STOP) !== 0) {
    wake(wakePath); // the server's read returns and it sees STOP
    break;
  }
  if (ring !== lastRing) {
    // Under a steady stream of rings, wake at most once per WAKE_GAP_MS: a reader then gets a batch of records per
    // round trip instead of one (each wake-up costs the server a request and the reader a read). A ring after a
    // quiet spell still wakes at once, and so does an urgent ring (a socket request waits for its answer).
    const early = WAKE_GAP_MS - (performance.now() - lastWakeAt);
    if (early > 0) Atomics.wait(gapWords, gapIndex, lastUrgent, early);
    lastUrgent = Atomics.load(gapWords, gapIndex);
    lastRing = ring; // rings during the wait are seen on the next pass, with the notes queued with them
    lastWakeAt = performance.now();
    wake(wakePath);
    continue;
  }
  Atomics.wait(words, bell.index, ring);
}
closeSync(rootFd);
notePort.close();
