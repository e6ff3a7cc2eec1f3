/**
 * `hostTree`: a tree module served without FUSE, in a thread of its own (host-worker.ts), reachable through the
 * socket only. It offers the parts of a FUSE mount a tree's owner uses (`port`, `post`, `closed`, `close`).
 */
import { pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort, type TransferListItem, Worker } from 'node:worker_threads';
import type { FromHost, HostWorkerData } from './host-worker.js';

export interface HostRequest {
  /** Module exporting `createVfs(data, env)`, as for `mountFuse`. */
  readonly vfsModule: string | URL;
  readonly vfsData?: unknown;
  readonly transferList?: readonly TransferListItem[];
  /** The word that wakes the tree's thread (rung by the socket thread, the engine, and `post`). */
  readonly bell: { readonly buffer: SharedArrayBuffer; readonly index: number };
}

export interface HostedTree {
  /** Messages the tree module sends with `env.postMessage`. */
  readonly port: MessagePort;
  /** Message the tree module (its `env.onMessage`). */
  post(message: unknown, transfer?: readonly TransferListItem[]): void;
  /** Stops the tree's thread. Idempotent. */
  close(): Promise<void>;
  /** Settles when the tree's thread has stopped. */
  readonly closed: Promise<void>;
}

export async function hostTree(req: HostRequest): Promise<HostedTree> {
  const user = new MessageChannel();
  const workerData: HostWorkerData = {
    vfsModule: req.vfsModule instanceof URL ? req.vfsModule.href : pathToFileURL(req.vfsModule).href,
    vfsData: req.vfsData,
    bell: req.bell,
    userPort: user.port2,
  };
  const worker = new Worker(new URL('./host-worker.js', import.meta.url), {
    workerData,
    transferList: [user.port2, ...(req.transferList ?? [])] as never,
    // Our own thread: it must not load what --import/--require (or --input-type) of the application load.
    execArgv: [],
  });
  const closed = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const first = await new Promise<FromHost>((resolve) => {
    worker.once('message', resolve);
    worker.once('error', (err) => resolve({ t: 'failed', message: err.message }));
    worker.once('exit', () => resolve({ t: 'failed', message: 'the tree thread exited' }));
  });
  if (first.t !== 'loaded') {
    await worker.terminate();
    throw new Error(`the tree's thread failed: ${first.message}`);
  }
  worker.unref();
  user.port1.unref();
  const ring = () => {
    const words = new Int32Array(req.bell.buffer);
    Atomics.add(words, req.bell.index, 1);
    Atomics.notify(words, req.bell.index);
  };
  let closing: Promise<void> | undefined;
  return {
    port: user.port1,
    post(message, transfer) {
      user.port1.postMessage(message, transfer as TransferListItem[] | undefined);
      ring();
    },
    closed,
    close() {
      closing ??= (async () => {
        worker.ref(); // until it has stopped
        worker.postMessage('stop');
        await Promise.race([closed, new Promise((r) => setTimeout(r, 2000).unref())]);
        await worker.terminate();
        user.port1.close();
      })();
      return closing;
    },
  };
}
