/**
 * Serving a tree on a unix stream socket, from the thread that starts it: `listenSocket` starts the socket thread
 * (listener-worker.ts) and says who a client is; `attach()` gives the port the tree's thread answers on
 * (serve-tree.ts).
 *
 * Who may connect is the kernel's decision, from the socket file's permissions (docs/SOCKET.md): without `gid` the
 * file is 0600 and owned by this process's user, so every client IS that user (or root), and is served with this
 * process's credentials. With `gid` it is 0660 in that group: a client is the owner or a member of the group, and
 * (the server cannot tell which: Node has no SO_PEERCRED) gets the group's rights in the tree — uid 65534, gid `gid`.
 */
import { unlinkSync } from 'node:fs';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import type { DoorbellWord } from '../fuse/doorbell.js';
import type { Credentials } from '../kernfs/vfs.js';
import type { FromListener, ListenerData, ToListener } from './listener-worker.js';

/** The user id group-socket clients are served as: the kernel's overflow uid ("nobody"). */
export const GROUP_CLIENT_UID = 65534;

export interface ListenOptions {
  readonly path: string;
  /** Make the socket group-accessible, with the group's rights in the tree. */
  readonly gid?: number;
  /** The word the tree's thread wakes on (its FUSE doorbell, or the socket host's). */
  readonly bell: { readonly buffer: SharedArrayBuffer; readonly index: number };
}

export interface SocketListener {
  readonly path: string;
  /**
   * The word the socket thread changes before it rings for a request (a client waits for the answer): give it to
   * the FUSE mount (`urgent`) so such rings skip the wake gap meant for the engine's steady rings.
   */
  readonly urgent: DoorbellWord;
  /** Who every client of this socket is, for the tree's permission checks. */
  readonly credentials: Credentials;
  /** A new port for the tree's thread to answer on (transfer it there); earlier connections are dropped. */
  attach(): MessagePort;
  /** Stops listening, drops every connection, removes the socket file. Idempotent. */
  close(): Promise<void>;
}

export async function listenSocket(options: ListenOptions): Promise<SocketListener> {
  const data: ListenerData = {
    path: options.path,
    mode: options.gid === undefined ? 0o600 : 0o660,
    gid: options.gid ?? -1,
    bell: options.bell,
    urgent: { buffer: new SharedArrayBuffer(4), index: 0 },
  };
  // Our own thread: it must not load what --import/--require (or --input-type) of the application load.
  const worker = new Worker(new URL('./listener-worker.js', import.meta.url), { workerData: data, execArgv: [] });
  const first = await new Promise<FromListener>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  if (first.t !== 'listening') {
    await worker.terminate();
    throw new Error(`cannot listen on ${options.path}: ${first.t === 'failed' ? first.message : first.t}`);
  }
  worker.unref(); // like a mount, the socket does not keep the process alive by itself
  // A process that ends without close() (it just finished, or called process.exit) leaves no socket file behind.
  const unlinkAtExit = () => {
    try {
      unlinkSync(options.path);
    } catch {}
  };
  process.on('exit', unlinkAtExit);
  const credentials: Credentials =
    options.gid === undefined
      ? { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, pid: 0, groups: process.getgroups?.() ?? [] }
      : { uid: GROUP_CLIENT_UID, gid: options.gid, pid: 0, groups: [options.gid] };
  let closing: Promise<void> | undefined;
  return {
    path: options.path,
    urgent: data.urgent,
    credentials,
    attach() {
      const { port1, port2 } = new MessageChannel();
      worker.postMessage({ t: 'attach', port: port1 } satisfies ToListener, [port1]);
      return port2;
    },
    close() {
      closing ??= (async () => {
        process.off('exit', unlinkAtExit);
        const stopped = new Promise<void>((resolve) => {
          worker.once('message', () => resolve());
          worker.once('exit', () => resolve());
        });
        worker.ref(); // until it has stopped
        worker.postMessage({ t: 'stop' } satisfies ToListener);
        await Promise.race([stopped, new Promise((r) => setTimeout(r, 2000).unref())]);
        await worker.terminate();
      })();
      return closing;
    },
  };
}
