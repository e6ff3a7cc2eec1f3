/**
 * `mountProxy`: a FUSE mount at `dir` showing the tree served on a socket. The serving thread runs proxy-vfs.ts;
 * this thread relays its request frames to the socket and the replies back, and nothing else.
 */
import { stat } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { type FuseMount, mountFuse, WAKE_NAME } from '../fuse/index.js';
import { FrameSplitter, Op, PROTOCOL_VERSION, Reader, Writer } from '../socket/protocol.js';
import type { ToProxy } from './proxy-vfs.js';

export interface ProxyMount {
  readonly fuse: FuseMount;
  /** Settles when the socket is gone (the target went away or closed the connection). */
  readonly targetGone: Promise<void>;
  /** Unmounts and disconnects. Idempotent. */
  close(): Promise<void>;
}

/** Connects to `socket`, says HELLO, then mounts at `dir`. */
export async function mountProxy(socket: string, dir: string): Promise<ProxyMount> {
  const sock = await new Promise<Socket>((resolve, reject) => {
    const s = connect(socket);
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
  sock.on('error', () => {});
  const frames = new FrameSplitter();
  // HELLO, answered before anything else is sent.
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      const [body] = frames.push(chunk);
      if (!body) return;
      sock.off('data', onData);
      const r = new Reader(body);
      r.u32();
      if (r.i32() !== 0) reject(new Error(`${socket} speaks another protocol version`));
      else resolve();
    };
    sock.on('data', onData);
    sock.once('close', () => reject(new Error(`${socket} closed the connection`)));
    sock.write(new Writer().u32(1).u8(Op.HELLO).u32(PROTOCOL_VERSION).frame());
  });
  const relay = new MessageChannel();
  // Replies are posted, then the serving thread woken by a lookup of the doorbell name (one in flight at a time).
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
  relay.port1.on('message', (frame: Uint8Array) => sock.write(frame));
  sock.on('data', (chunk: Buffer) => {
    let bodies: Buffer[];
    try {
      bodies = frames.push(chunk);
    } catch {
      sock.destroy();
      return;
    }
    if (bodies.length === 0) return;
    relay.port1.postMessage({ t: 'bodies', bodies } satisfies ToProxy);
    wake();
  });
  const targetGone = new Promise<void>((resolve) =>
    sock.once('close', () => {
      relay.port1.postMessage({ t: 'gone' } satisfies ToProxy);
      wake();
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
