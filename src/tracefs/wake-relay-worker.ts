/**
 * The wake relay thread: sleeps on the engine's wake word and rings the FUSE doorbells of this process's mounts.
 * Emitters can only ring a word in the engine's shared memory; the FUSE doorbell is its own buffer, so this thread
 * carries the ring across (one Atomics.wait/notify pair).
 */
import { type MessagePort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { ringDoorbell } from '../fuse/index.js';

export interface RelayData {
  /** [0] is rung by emitters; [1] is set to stop the relay. */
  readonly words: Int32Array;
  readonly port: MessagePort;
}

/** Messages: add or drop a doorbell (the sender bumps words[0] so they are seen at once). */
export type RelayMessage = { type: 'add'; doorbell: SharedArrayBuffer } | { type: 'drop'; doorbell: SharedArrayBuffer };

const { words, port } = workerData as RelayData;
const doorbells: SharedArrayBuffer[] = [];

for (;;) {
  const seen = Atomics.load(words, 0);
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
    const msg = m.message as RelayMessage;
    if (msg.type === 'add') doorbells.push(msg.doorbell);
    else {
      const i = doorbells.indexOf(msg.doorbell);
      if (i >= 0) doorbells.splice(i, 1);
    }
  }
  if (Atomics.load(words, 1) !== 0) break;
  for (const d of doorbells) ringDoorbell(d);
  Atomics.wait(words, 0, seen);
}
port.close();
