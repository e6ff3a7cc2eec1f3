/** A `TreeClient` over a mounted directory (an ntrace FUSE mount, or any tracefs such as /sys/kernel/tracing). */
import { constants, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  pathParts,
  type StreamOptions,
  type TreeClient,
  type TreeDirEntry,
  TreeError,
  type TreeNodeKind,
  type TreeStat,
} from './tree-client.js';

/** Longest nap between two reads of an empty blocking file (see stream()), unless the caller says. */
const MAX_NAP_MS = 50;

function kindOf(s: { isDirectory(): boolean; isSymbolicLink(): boolean }): TreeNodeKind {
  return s.isDirectory() ? 'dir' : s.isSymbolicLink() ? 'symlink' : 'file';
}

export class MountClient implements TreeClient {
  readonly kind = 'mount';

  constructor(readonly location: string) {}

  private at(path: string): string {
    return join(this.location, ...pathParts(path));
  }

  async readFile(path: string): Promise<Uint8Array> {
    try {
      return await fs.readFile(this.at(path));
    } catch (err) {
      throw TreeError.from(err, path);
    }
  }

  async writeFile(path: string, data: string | Uint8Array, options: { append?: boolean } = {}): Promise<number> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    const flags = constants.O_WRONLY | (options.append ? constants.O_APPEND : constants.O_TRUNC);
    let file: fs.FileHandle | undefined;
    try {
      file = await fs.open(this.at(path), flags);
      const { bytesWritten } = await file.write(bytes, 0, bytes.length);
      return bytesWritten;
    } catch (err) {
      throw TreeError.from(err, path);
    } finally {
      await file?.close().catch(() => {});
    }
  }

  async readdir(path: string): Promise<TreeDirEntry[]> {
    try {
      const entries = await fs.readdir(this.at(path), { withFileTypes: true });
      return entries.map((e) => ({ name: e.name, kind: kindOf(e) }));
    } catch (err) {
      throw TreeError.from(err, path);
    }
  }

  async stat(path: string): Promise<TreeStat> {
    try {
      const s = await fs.lstat(this.at(path));
      return { ino: s.ino, kind: kindOf(s), mode: s.mode, uid: s.uid, gid: s.gid, size: s.size, mtimeMs: s.mtimeMs };
    } catch (err) {
      throw TreeError.from(err, path);
    }
  }

  async mkdir(path: string, mode = 0o755): Promise<void> {
    try {
      await fs.mkdir(this.at(path), { mode });
    } catch (err) {
      throw TreeError.from(err, path);
    }
  }

  async rmdir(path: string): Promise<void> {
    try {
      await fs.rmdir(this.at(path));
    } catch (err) {
      throw TreeError.from(err, path);
    }
  }

  /**
   * A blocking read(2) would hold a libuv pool thread that nothing can interrupt, so the file is opened O_NONBLOCK
   * and an empty read (EAGAIN) naps, 1 ms doubling up to 50 ms (`idleNapMs`), before the next: cancellation is
   * immediate and an idle pipe costs a read every 50 ms.
   */
  async *stream(path: string, options: StreamOptions = {}): AsyncIterable<Uint8Array> {
    const { signal } = options;
    const size = options.chunkSize ?? 64 * 1024;
    const maxNap = options.idleNapMs ?? MAX_NAP_MS;
    let file: fs.FileHandle;
    try {
      file = await fs.open(this.at(path), constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (err) {
      throw TreeError.from(err, path);
    }
    try {
      let nap = 1;
      const reused = options.reuse ? Buffer.allocUnsafeSlow(size) : undefined;
      while (!signal?.aborted) {
        const buf = reused ?? Buffer.allocUnsafe(size);
        let n: number;
        try {
          n = (await file.read(buf, 0, size, null)).bytesRead;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw TreeError.from(err, path);
          await sleep(nap, undefined, { signal }).catch(() => {});
          nap = Math.min(nap * 2, maxNap);
          continue;
        }
        if (n === 0) return;
        nap = 1;
        yield buf.subarray(0, n);
      }
    } finally {
      await file.close().catch(() => {});
    }
  }

  async close(): Promise<void> {}
}
