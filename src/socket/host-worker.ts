/**
 * The tree's thread when there is no FUSE mount: imports the tree module as the FUSE serving thread would, with an
 * environment whose wake-ups come from `Atomics.waitAsync` on the doorbell word instead of a lookup through the
 * mount. Its event loop is free (no blocking read), so the socket requests and the engine's rings are all it
 * waits for.
 */
import { type MessagePort, parentPort, type TransferListItem, workerData } from 'node:worker_threads';
// The tree-module contract is the FUSE layer's (it came first): its types and the listener set every host keeps.
import { TreeListeners, type VfsEnv, type VfsFactory } from '../fuse/vfs-module.js';

export interface HostWorkerData {
  readonly vfsModule: string;
  readonly vfsData: unknown;
  readonly bell: { readonly buffer: SharedArrayBuffer; readonly index: number };
  readonly userPort: MessagePort;
}
export type FromHost = { t: 'loaded' } | { t: 'failed'; message: string };

const data = workerData as HostWorkerData;
const words = new Int32Array(data.bell.buffer);
let stopped = false;

function ring(): void {
  Atomics.add(words, data.bell.index, 1);
  Atomics.notify(words, data.bell.index);
}

function report(err: unknown): void {
  process.stderr.write(`ntrace socket: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
}

const listeners = new TreeListeners(report);

/** Atomics.waitAsync (V8 ≥ 8.7, every Node ≥ 16), absent from the ES2023 typings. */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<unknown> | string };
  }
).waitAsync;

/** Wakes on every change of the doorbell word, coalescing rings that come during a wake-up. */
async function wakeLoop(): Promise<void> {
  while (!stopped) {
    const seen = Atomics.load(words, data.bell.index);
    listeners.woken(data.userPort);
    const w = waitAsync(words, data.bell.index, seen);
    if (w.async) await w.value;
  }
}

const env: VfsEnv = {
  doorbell: data.bell.buffer,
  doorbellIndex: data.bell.index,
  ring,
  onWake: (listener) => listeners.onWake(listener),
  onMessage: (listener) => listeners.onMessage(listener),
  invalidationsSent: () => Promise.resolve(), // no kernel cache to invalidate
  postMessage(message, transfer) {
    data.userPort.postMessage(message, transfer as TransferListItem[] | undefined);
  },
};

try {
  const mod = (await import(data.vfsModule)) as { createVfs?: VfsFactory; default?: VfsFactory };
  const factory = mod.createVfs ?? mod.default;
  if (typeof factory !== 'function') throw new Error(`${data.vfsModule} exports no createVfs (or default) factory`);
  await factory(data.vfsData, env);
  parentPort!.postMessage({ t: 'loaded' } satisfies FromHost);
  // The starting thread's 'stop' (or its going away) ends the thread; until then this port keeps it alive.
  parentPort!.on('message', () => {
    stopped = true;
    ring();
    parentPort!.close();
    data.userPort.close();
  });
  void wakeLoop();
} catch (err) {
  parentPort!.postMessage({ t: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  data.userPort.close();
}
