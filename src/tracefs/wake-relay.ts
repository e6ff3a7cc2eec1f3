/**
 * One wake relay per process (see wake-relay-worker.ts): the engine's wake target points at its word while at
 * least one mount is live, and back at the engine's own doorbell afterwards.
 */
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { allocateSharedWords, setWakeTarget } from '../trace/engine.js';
import type { RelayData, RelayMessage } from './wake-relay-worker.js';

interface Relay {
  readonly worker: Worker;
  readonly words: Int32Array;
  readonly port: MessagePort;
  users: number;
}

let relay: Relay | undefined;
/** Words are never freed by the engine: keep the first pair for every later relay. */
let words: Int32Array | undefined;

function bump(w: Int32Array): void {
  Atomics.add(w, 0, 1);
  Atomics.notify(w, 0);
}

function send(r: Relay, message: RelayMessage): void {
  r.port.postMessage(message);
  bump(r.words);
}

/** Starts relaying engine wake-ups to `doorbell` (a FUSE mount's). */
export function relayTo(doorbell: SharedArrayBuffer): void {
  if (!relay) {
    words ??= allocateSharedWords(2);
    if (!words) throw new Error('ntrace: no shared memory left for the wake relay');
    Atomics.store(words, 1, 0);
    const channel = new MessageChannel();
    const data: RelayData = { words, port: channel.port2 };
    const worker = new Worker(new URL('./wake-relay-worker.js', import.meta.url), {
      workerData: data,
      transferList: [channel.port2],
    });
    worker.unref();
    channel.port1.unref();
    relay = { worker, words, port: channel.port1, users: 0 };
    if (!setWakeTarget(words, 0)) throw new Error('ntrace: the engine refused the wake relay word');
  }
  relay.users++;
  send(relay, { type: 'add', doorbell });
}

/** Stops relaying to `doorbell`; the relay thread ends with its last mount. */
export async function stopRelayTo(doorbell: SharedArrayBuffer): Promise<void> {
  const r = relay;
  if (!r) return;
  send(r, { type: 'drop', doorbell });
  if (--r.users > 0) return;
  relay = undefined;
  setWakeTarget(undefined);
  Atomics.store(r.words, 1, 1);
  bump(r.words);
  r.port.close();
  await r.worker.terminate();
}
