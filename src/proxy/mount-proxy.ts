/**
 * `mountProxy`: a FUSE mount at `dir` showing the tree served on a socket. The serving thread runs proxy-vfs.ts;
 * this thread relays its request frames to the socket and the replies back, and nothing else.
 *
 * Replies wake the serving thread with a lookup of the doorbell name made from this thread, not through the mount's
 * doorbell: the mount's helper thread also writes the cache invalidations the tree reports, and the kernel may hold
 * such a write until a request in flight is answered — a WRITE to trace_marker invalidates trace_marker itself, and
 * its reply would wait for a helper blocked on that very invalidation.
 */
import { stat } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { type FuseMount, mountFuse, WAKE_NAME } from '../fuse/index.js';
import { handshake } from '../socket/connection.js';
import type { ToProxy } from './proxy-vfs.js';

/** The protocol version the proxy needs: LISTTREE (4), OPEN_READ (3). */
const NEEDS_VERSION = 4;

export interface ProxyMount {
  readonly fuse: FuseMount;
  /** Settles when the socket is gone (the target went away or closed the connection). */
  readonly targetGone: Promise<void>;
  /** Unmounts and disconnects. Idempotent. */
  close(): Promise<void>;
}

/** Connects to `socket`, says HELLO, then mounts at `dir`. */
export async function mountProxy(socket: string, dir: string): Promise<ProxyMount> {
  const { sock, frames } = await handshake(socket, NEEDS_VERSION);
  const relay = new MessageChannel();
  relay.port1.on('message', (frame: Uint8Array) => sock.write(frame));
  // One wake lookup in flight at a time; replies that come meanwhile are taken by the wake-up after it.
  const wakePath = join(dir, WAKE_NAME);
  let waking = false;
  let again = false;
  const wake = () => {
    if (waking) {
      again = true;
      return;
    }
    waking = true;
    stat(wakePath, () => {
      waking = false;
      if (again) {
        again = false;
        wake();
      }
    });
  };
  const toProxy = (m: ToProxy) => {
    relay.port1.postMessage(m);
    wake();
  };
  sock.on('data', (chunk: Buffer) => {
    let bodies: Buffer[];
    try {
      bodies = frames.push(chunk);
    } catch {
      sock.destroy();
      return;
    }
    if (bodies.length > 0) toProxy({ t: 'bodies', bodies });
  });
  sock.resume();
  const targetGone = new Promise<void>((resolve) =>
    sock.once('close', () => {
      toProxy({ t: 'gone' });
      resolve();
    }),
  );
  let fuse: FuseMount;
  try {
    fuse = await mountFuse({
      mountpoint: dir,
      vfsModule: new URL('./proxy-vfs.js', import.meta.url),
      vfsData: { relay: relay.port2 },
      transferList: [relay.port2],
      options: { fsname: `ntrace-proxy:${socket}`, defaultPermissions: false },
    });
  } catch (err) {
    sock.destroy();
    relay.port1.close();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    fuse,
    targetGone,
    close() {
      closing ??= (async () => {
        await fuse.close();
        sock.destroy();
        relay.port1.close();
      })();
      return closing;
    },
  };
}
