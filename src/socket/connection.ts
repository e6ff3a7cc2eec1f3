/**
 * A client's end of the socket protocol: one unix stream connection, HELLO said and the version agreed, requests
 * with ids and replies matched by id (calls.ts), poll notifications to a callback. Used by the `ntrace` verbs
 * (src/client/); `ntrace mount` (src/proxy/) makes its connection with `handshake` too.
 */
import { connect, type Socket } from 'node:net';
import { Calls, GONE_ERRNO, RemoteError } from './calls.js';
import { FrameReader } from './frame-reader.js';
import { FrameSplitter, MIN_PROTOCOL_VERSION, NOTIFY_POLL, Op, PROTOCOL_VERSION, Reader, Writer } from './protocol.js';

export { GONE_ERRNO, RemoteError } from './calls.js';

/**
 * A connected socket whose HELLO was answered: the version both sides speak, and the splitter its frames go on. It is
 * paused: resume it once its 'data' listener is on.
 */
export interface Handshake {
  readonly sock: Socket;
  readonly version: number;
  readonly frames: FrameSplitter;
}

/**
 * Connects to `path` and says HELLO with the newest version this side speaks; the server answers the one both
 * speak. Rejects with the connect error (ENOENT, EACCES, ECONNREFUSED…), or when the agreed version is below `need`.
 */
export async function handshake(path: string, need = MIN_PROTOCOL_VERSION): Promise<Handshake> {
  const sock = await new Promise<Socket>((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
  sock.on('error', () => {}); // 'close' follows, and says it
  const frames = new FrameSplitter();
  try {
    const version = await new Promise<number>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        let body: Buffer | undefined;
        try {
          [body] = frames.push(chunk);
          if (!body) return;
          sock.pause(); // until the caller listens: a 'data' event nobody hears is lost
          sock.off('data', onData);
          sock.off('close', onClose);
          const r = new Reader(body);
          r.u32();
          const status = r.i32();
          if (status !== 0) reject(new Error(`${path} speaks no protocol version this command speaks (${status})`));
          else resolve(r.u32());
        } catch (err) {
          reject(err);
        }
      };
      const onClose = () => reject(new Error(`${path} closed the connection at HELLO`));
      sock.on('data', onData);
      sock.once('close', onClose);
      sock.write(new Writer().u32(1).u8(Op.HELLO).u32(PROTOCOL_VERSION).frame());
    });
    if (version < need || version > PROTOCOL_VERSION)
      throw new Error(`${path} speaks protocol version ${version}; this needs ${need} to ${PROTOCOL_VERSION}`);
    return { sock, version, frames };
  } catch (err) {
    sock.destroy();
    throw err;
  }
}

export class SocketConnection {
  private readonly calls: Calls;
  private readonly sock: Socket;
  /** Called with the handle of a poll that may have changed readiness. */
  onPollWake: ((fh: number) => void) | undefined;
  /** Settles when the connection ends, for whatever reason. */
  readonly closed: Promise<void>;
  /** The protocol version agreed at HELLO (0 until then). */
  version = 0;

  /** Each reply's body is read into memory of its own (frame-reader.ts): a fresh buffer, or what its caller gave. */
  private constructor(path: string) {
    const reader = new FrameReader(
      (body) => this.calls.receive(body),
      (length, id) => this.calls.placement(id)?.(length) ?? Buffer.allocUnsafe(length),
      () => this.close(), // a server we cannot understand
    );
    this.sock = connect({ path, onread: reader.onread });
    this.sock.on('error', () => {}); // 'close' follows, and says it
    this.calls = new Calls(
      (frame) => this.sock.write(frame),
      (kind, r) => {
        if (kind === NOTIFY_POLL) this.onPollWake?.(r.f64());
      },
    );
    this.closed = new Promise((resolve) =>
      this.sock.once('close', () => {
        this.calls.fail();
        resolve();
      }),
    );
  }

  /**
   * Connects and says HELLO with the newest version this side speaks; the server answers the one both speak.
   * Rejects with the connect error (ENOENT, EACCES, ECONNREFUSED…), or when no version both speak is at least `need`.
   */
  static async open(path: string, need = MIN_PROTOCOL_VERSION): Promise<SocketConnection> {
    const conn = new SocketConnection(path);
    try {
      await new Promise<void>((resolve, reject) => {
        conn.sock.once('connect', () => {
          conn.sock.off('error', reject);
          resolve();
        });
        conn.sock.once('error', reject);
      });
      let version: number;
      try {
        version = (await conn.calls.call(Op.HELLO, (w) => w.u32(PROTOCOL_VERSION))).u32();
      } catch (err) {
        if (err instanceof RemoteError && err.errno === GONE_ERRNO)
          throw new Error(`${path} closed the connection at HELLO`);
        throw new Error(`${path} speaks no protocol version this command speaks (${(err as Error).message})`);
      }
      if (version < need || version > PROTOCOL_VERSION)
        throw new Error(`${path} speaks protocol version ${version}; this needs ${need} to ${PROTOCOL_VERSION}`);
      conn.version = version;
      return conn;
    } catch (err) {
      conn.close();
      throw err;
    }
  }

  /**
   * Connects and says HELLO without waiting for either: a further connection to a server already known to speak a
   * version this side speaks (a stream beside a client's own connection), whose first requests then go with the
   * HELLO instead of a round trip after it. Requests fail with GONE_ERRNO if the connection cannot be made or the
   * HELLO is refused.
   */
  static begin(path: string): SocketConnection {
    const conn = new SocketConnection(path);
    conn.calls
      .call(Op.HELLO, (w) => w.u32(PROTOCOL_VERSION))
      .then(
        (r) => {
          conn.version = r.u32();
        },
        () => conn.close(),
      );
    return conn;
  }

  /**
   * Sends one request; resolves with a reader of its result, or rejects with a RemoteError. `into` gives the memory
   * its reply is read into (at least `length` bytes), e.g. a buffer the caller reuses; else it gets fresh memory.
   */
  call(op: number, args?: (w: Writer) => void, into?: (length: number) => Uint8Array): Promise<Reader> {
    return this.calls.call(op, args, into);
  }

  /** Keep the process alive only while requests are outstanding (a mount proxy refs it for its whole life). */
  ref(on: boolean): void {
    if (on) this.sock.ref();
    else this.sock.unref();
  }

  close(): void {
    this.sock.destroy();
    this.calls.fail();
  }
}
