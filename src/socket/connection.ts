/**
 * A client's end of the socket protocol: one unix stream connection, requests with ids, replies matched by id in
 * whatever order they come, poll notifications to a callback. Used by the `ntrace` verbs (src/client/) and by
 * `ntrace mount`'s proxy (proxy-vfs.ts).
 */
import { connect, type Socket } from 'node:net';
import { constants } from 'node:os';
import { FrameSplitter, NOTIFY_ID, NOTIFY_POLL, Op, PROTOCOL_VERSION, Reader, Writer } from './protocol.js';

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** The tree (or the transport) answered an errno. `code` is its name, as in Node's system errors. */
export class RemoteError extends Error {
  readonly code: string;
  constructor(readonly errno: number) {
    const code = ERRNO_NAMES.get(errno) ?? `E${errno}`;
    super(code);
    this.name = 'RemoteError';
    this.code = code;
  }
}

/** What pending and later requests fail with once the connection is gone: the tree is no longer reachable. */
export const GONE_ERRNO = constants.errno.ENODEV;

interface Pending {
  resolve(r: Reader): void;
  reject(e: Error): void;
}

export class SocketConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly frames = new FrameSplitter();
  private gone = false;
  /** Called with the handle of a poll that may have changed readiness. */
  onPollWake: ((fh: number) => void) | undefined;
  /** Settles when the connection ends, for whatever reason. */
  readonly closed: Promise<void>;

  private constructor(private readonly sock: Socket) {
    sock.on('data', (chunk: Buffer) => this.receive(chunk));
    sock.on('error', () => {});
    this.closed = new Promise((resolve) =>
      sock.on('close', () => {
        this.fail();
        resolve();
      }),
    );
  }

  /** Connects and says HELLO; rejects with the reason when the socket cannot be reached or speaks another version. */
  static async open(path: string): Promise<SocketConnection> {
    const sock = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });
    const conn = new SocketConnection(sock);
    const r = await conn.call(Op.HELLO, (w) => w.u32(PROTOCOL_VERSION));
    if (r.u32() !== PROTOCOL_VERSION) {
      conn.close();
      throw new Error(`${path} speaks another protocol version`);
    }
    return conn;
  }

  /** Sends one request; resolves with a reader of its result, or rejects with a RemoteError. */
  call(op: number, args?: (w: Writer) => void): Promise<Reader> {
    if (this.gone) return Promise.reject(new RemoteError(GONE_ERRNO));
    const id = this.nextId;
    this.nextId = this.nextId >= 0xfffffffe ? 1 : this.nextId + 1;
    const w = new Writer().u32(id).u8(op);
    args?.(w);
    return new Promise<Reader>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.sock.write(w.frame());
    });
  }

  /** Keep the process alive only while requests are outstanding (a mount proxy refs it for its whole life). */
  ref(on: boolean): void {
    if (on) this.sock.ref();
    else this.sock.unref();
  }

  close(): void {
    this.sock.destroy();
    this.fail();
  }

  private receive(chunk: Buffer): void {
    let bodies: Buffer[];
    try {
      bodies = this.frames.push(chunk);
    } catch {
      this.close(); // a server we cannot understand
      return;
    }
    for (const body of bodies) {
      const r = new Reader(body);
      try {
        const id = r.u32();
        const status = r.i32();
        if (id === NOTIFY_ID) {
          if (r.u8() === NOTIFY_POLL) this.onPollWake?.(r.f64());
          continue;
        }
        const p = this.pending.get(id);
        if (!p) continue;
        this.pending.delete(id);
        if (status === 0) p.resolve(r);
        else p.reject(new RemoteError(status));
      } catch {
        this.close();
        return;
      }
    }
  }

  private fail(): void {
    if (this.gone) return;
    this.gone = true;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(new RemoteError(GONE_ERRNO));
  }
}
