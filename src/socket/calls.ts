/**
 * A client's requests in flight, matched to their replies: ids chosen here, replies settled by id in whatever order
 * they come, notifications handed on, and every call failed at once when the connection is gone. One module for both
 * clients of the protocol — the `ntrace` verbs' connection (connection.ts) and `ntrace mount`'s tree (proxy-vfs.ts,
 * whose frames travel through another thread) — so they differ only in how a frame reaches the socket.
 */
import { constants } from 'node:os';
import { NOTIFY_ID, Reader, Writer } from './protocol.js';

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
  /** Where the reply's body is to be read (a FrameReader asks), when the caller said. */
  into?: (length: number) => Uint8Array;
}

export class Calls {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private over = false;

  /**
   * `send` puts a finished frame on its way; `notified` gets each notification's kind and the rest of its body.
   */
  constructor(
    private readonly send: (frame: Uint8Array) => void,
    private readonly notified: (kind: number, r: Reader) => void = () => {},
  ) {}

  get gone(): boolean {
    return this.over;
  }

  /**
   * Sends one request; resolves with a reader of its result, or rejects with a RemoteError. `into`: the memory its
   * reply's body is read into, for a receiving end that asks (`placement`).
   */
  call(op: number, args?: (w: Writer) => void, into?: (length: number) => Uint8Array): Promise<Reader> {
    if (this.over) return Promise.reject(new RemoteError(GONE_ERRNO));
    const id = this.nextId;
    this.nextId = this.nextId >= 0xfffffffe ? 1 : this.nextId + 1;
    const w = new Writer().u32(id).u8(op);
    args?.(w);
    return new Promise<Reader>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, into });
      this.send(w.frame());
    });
  }

  /** Where the reply to request `id` is to be read, if its caller said. */
  placement(id: number): ((length: number) => Uint8Array) | undefined {
    return this.pending.get(id)?.into;
  }

  /** One reply or notification body. Throws (a BadFrame) on a body it cannot parse: the caller ends the connection. */
  receive(body: Uint8Array): void {
    const r = new Reader(body);
    const id = r.u32();
    const status = r.i32();
    if (id === NOTIFY_ID) {
      this.notified(r.u8(), r);
      return;
    }
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (status === 0) p.resolve(r);
    else p.reject(new RemoteError(status));
  }

  /** The connection is gone: every call in flight, and every later one, fails with GONE_ERRNO. */
  fail(): void {
    if (this.over) return;
    this.over = true;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(new RemoteError(GONE_ERRNO));
  }
}
