/** A `TreeClient` over a serving process's unix socket (src/socket/): each call is one request of the protocol. */
import { RemoteError, SocketConnection } from '../socket/connection.js';
import { Op, type Reader } from '../socket/protocol.js';
import type { StreamOptions, TreeClient, TreeDirEntry, TreeNodeKind, TreeStat } from './tree-client.js';
import { TreeError } from './tree-client.js';

const O_WRONLY = 0o1;
const O_TRUNC = 0o1000;
const O_APPEND = 0o2000;
const KINDS: readonly TreeNodeKind[] = ['dir', 'file', 'symlink'];
/** A READ reply's body before its bytes: u32 id, i32 status, u32 count. */
const REPLY_HEAD = 12;
/** Bytes the first READ of a stream asks for. */
const FIRST_STREAM_READ = 64 * 1024;

async function remote<T>(path: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof RemoteError) throw new TreeError(err.errno, path);
    throw err;
  }
}

export class SocketClient implements TreeClient {
  readonly kind = 'socket';

  private constructor(
    readonly location: string,
    private readonly conn: SocketConnection,
  ) {
    conn.ref(false);
  }

  static async connect(path: string): Promise<SocketClient> {
    return new SocketClient(path, await SocketConnection.open(path));
  }

  /** Requests keep the process alive while they are outstanding, not the idle connection. */
  private async call<T>(path: string, p: () => Promise<T>): Promise<T> {
    this.conn.ref(true);
    try {
      return await remote(path, p());
    } finally {
      this.conn.ref(false);
    }
  }

  async readFile(path: string): Promise<Uint8Array> {
    try {
      return await this.call(path, async () => (await this.conn.call(Op.READ_FILE, (w) => w.str(path))).bytes());
    } catch (err) {
      if (!(err instanceof TreeError && err.code === 'EFBIG')) throw err;
    }
    // Too big for one reply: read it in pieces through a handle.
    const chunks: Uint8Array[] = [];
    for await (const c of this.reads(path, this.conn, undefined, 1024 * 1024, true)) chunks.push(c);
    return Buffer.concat(chunks);
  }

  writeFile(path: string, data: string | Uint8Array, options: { append?: boolean } = {}): Promise<number> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    const flags = O_WRONLY | (options.append ? O_APPEND : O_TRUNC);
    return this.call(path, async () =>
      (await this.conn.call(Op.WRITE_FILE, (w) => w.str(path).u32(flags).bytes(bytes))).u32(),
    );
  }

  readdir(path: string): Promise<TreeDirEntry[]> {
    return this.call(path, async () => {
      const r = await this.conn.call(Op.LIST, (w) => w.str(path));
      const n = r.u32();
      const out: TreeDirEntry[] = [];
      for (let i = 0; i < n; i++) out.push({ name: r.str(), kind: KINDS[r.u8()] ?? 'file' });
      return out;
    });
  }

  stat(path: string): Promise<TreeStat> {
    return this.call(path, async () => {
      const a = (await this.conn.call(Op.STAT, (w) => w.str(path))).attr();
      return { ino: a.ino, kind: a.kind, mode: a.mode, uid: a.uid, gid: a.gid, size: a.size, mtimeMs: a.mtimeMs };
    });
  }

  mkdir(path: string, mode = 0o755): Promise<void> {
    return this.call(path, async () => {
      await this.conn.call(Op.MKDIR_PATH, (w) => w.str(path).u32(mode));
    });
  }

  rmdir(path: string): Promise<void> {
    return this.call(path, async () => {
      await this.conn.call(Op.RMDIR_PATH, (w) => w.str(path));
    });
  }

  /**
   * A connection of its own: the server parks each READ until data comes, and aborting simply ends that
   * connection, which interrupts the parked read and releases the file on the server, once. Its HELLO goes with
   * its open (this client's own connection agreed a version already): no round trip before the open.
   */
  async *stream(path: string, options: StreamOptions = {}): AsyncIterable<Uint8Array> {
    if (options.signal?.aborted) return;
    const conn = SocketConnection.begin(this.location);
    yield* this.reads(path, conn, options.signal, options.chunkSize ?? 64 * 1024, false, options);
  }

  /**
   * Reads through a handle until end of file, the signal, or an error; `shared`: leave the connection open; `paced`:
   * no read ahead, each read goes out when the consumer asks; `reuse`: the consumer is done with a chunk when it
   * asks for the next (StreamOptions).
   */
  private async *reads(
    path: string,
    conn: SocketConnection,
    signal: AbortSignal | undefined,
    size: number,
    shared: boolean,
    { paced = false, reuse = false }: Pick<StreamOptions, 'paced' | 'reuse'> = {},
  ): AsyncIterable<Uint8Array> {
    const onAbort = () => conn.close();
    signal?.addEventListener('abort', onAbort);
    conn.ref(true);
    let fh: number | undefined;
    try {
      let opened: ReturnType<Reader['open']>;
      try {
        opened = (
          await remote(
            path,
            conn.call(Op.OPEN_PATH, (w) => w.str(path).u32(0)),
          )
        ).open();
      } catch (err) {
        if (signal?.aborted) return; // aborted while it opened: the stream just ends
        throw err;
      }
      const h = opened.fh;
      fh = h;
      // Reads in flight while the consumer handles a chunk: for a stream (offsets mean nothing; the server answers
      // a handle's reads in order) two, so the tree makes the next chunk while this one travels; else one, at the
      // offset the last one ended, or when `paced`, asked only when the consumer asks. Like `cat`'s own buffer, what was
      // read ahead is lost if the consumer stops.
      const ahead = opened.stream && !paced ? 2 : 1;
      // With `reuse`, the k-th reply is read into buffer k mod (ahead + 1): the READ for reply k is sent when the
      // consumer takes reply k - ahead (or, paced, is done with k - 1), so it holds none of the others' by then.
      const pool = reuse ? Array.from({ length: ahead + 1 }, () => Buffer.allocUnsafeSlow(REPLY_HEAD + size)) : [];
      let sent = 0;
      const read = (at: number) => {
        // The first read of a stream asks little, so its first bytes come out at once (the tree renders what it is
        // asked for before it answers: ~10 ms for 1 MiB of trace_pipe); the next ones ask the full size.
        const ask = opened.stream && sent === 0 ? Math.min(size, FIRST_STREAM_READ) : size;
        const buf = pool[sent++ % (ahead + 1)];
        const p = remote(
          path,
          conn.call(
            Op.READ,
            (w) => w.f64(h).f64(at).u32(ask),
            buf && ((n) => (n <= buf.length ? buf : Buffer.allocUnsafe(n))),
          ),
        );
        p.catch(() => {}); // a read ahead nobody awaits (the consumer stopped) fails quietly when the connection ends
        return p;
      };
      const inFlight = Array.from({ length: ahead }, () => read(0));
      let offset = 0;
      for (;;) {
        let chunk: Uint8Array;
        try {
          chunk = (await inFlight.shift()!).bytes();
        } catch (err) {
          if (signal?.aborted) return;
          throw err;
        }
        if (chunk.length === 0) return;
        offset += chunk.length;
        if (!paced) inFlight.push(read(offset));
        yield chunk;
        if (signal?.aborted) return;
        if (paced) inFlight.push(read(offset));
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (shared) {
        const h = fh;
        if (h !== undefined) await conn.call(Op.RELEASE, (w) => w.f64(h)).catch(() => {});
        conn.ref(false);
      } else conn.close();
    }
  }

  async close(): Promise<void> {
    this.conn.close();
  }
}
