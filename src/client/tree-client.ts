/**
 * One way to use an ntrace tree, wherever it is served: through a mounted directory, or over the serving process's
 * unix socket. Verbs (`ntrace cat|write|ls|tail|record|ship…`) take a TARGET and speak only this interface.
 *
 * Paths are relative to the tree's root (`events/sched/enable`, `instances/x`); a leading `/` is ignored and `..`
 * never leaves the root. Every failure is a `TreeError` carrying the errno the tree answered, exactly as a syscall on
 * a mount would have returned it.
 */
import { errnoName, errno as errnoTable, isErrnoName } from '../errno.js';

export type TreeNodeKind = 'dir' | 'file' | 'symlink';

/** stat(2), as far as a tree has it. `mode` includes the file-type bits. */
export interface TreeStat {
  readonly ino: number;
  readonly kind: TreeNodeKind;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtimeMs: number;
}

export interface TreeDirEntry {
  readonly name: string;
  readonly kind: TreeNodeKind;
}

export interface StreamOptions {
  /** Ends the stream (the iterator returns) and releases the open file. */
  readonly signal?: AbortSignal;
  /** Largest chunk asked for in one read. Default 64 KiB. */
  readonly chunkSize?: number;
  /**
   * Over a mount, the longest pause between two reads that found the file empty (default 50 ms): a reader that
   * paces itself (a shipper batching by the second) polls an idle file less often. Over a socket the read waits
   * in the server, so there is no pause to bound.
   */
  readonly idleNapMs?: number;
  /**
   * The consumer paces its reads (a shipper that pauses between passes, and asks for the next chunk before handling
   * this one when it wants one in flight): a read goes out only when the next chunk is asked for. Over a socket a
   * stream otherwise keeps a read ahead waiting in the server, which answers it with whatever came during the
   * consumer's pause — a small read per pause instead of one full read after it. Over a mount reads are always
   * made when asked.
   */
  readonly paced?: boolean;
  /**
   * The reader is done with each chunk before it asks for the next (it wrote it out, or copied what it keeps): the
   * chunks may then be read into the same memory every time, which spares fresh memory per read.
   */
  readonly reuse?: boolean;
}

export interface TreeClient {
  /** How the tree is reached, and where (a directory or a socket path). */
  readonly kind: 'mount' | 'socket';
  readonly location: string;
  /** The whole file, read until end of file. Do not use on blocking files (trace_pipe): see `stream`. */
  readFile(path: string): Promise<Uint8Array>;
  /**
   * One open and ONE write(2) of `data` (like `echo VALUE > FILE`, or `>>` with `append`), so a control file sees
   * exactly the value given. Returns the count the file accepted (may be short, e.g. set_event takes one token).
   */
  writeFile(path: string, data: string | Uint8Array, options?: { append?: boolean }): Promise<number>;
  /** Entries without `.` and `..`, in the tree's order. */
  readdir(path: string): Promise<TreeDirEntry[]>;
  stat(path: string): Promise<TreeStat>;
  mkdir(path: string, mode?: number): Promise<void>;
  rmdir(path: string): Promise<void>;
  /**
   * Consuming reads of a blocking file (trace_pipe, trace_pipe_raw, per_cpu/cpuN/trace_pipe_raw…): each chunk as it
   * arrives, until end of file, an error (thrown from the iterator), or `signal` aborts. Breaking out of the loop
   * also releases the file.
   */
  stream(path: string, options?: StreamOptions): AsyncIterable<Uint8Array>;
  /** Releases the connection (socket) — open streams end. Idempotent. */
  close(): Promise<void>;
}

/** A failure the tree answered (or the transport met), as an errno. */
export class TreeError extends Error {
  /** Positive errno, e.g. 22 for EINVAL. */
  readonly errno: number;
  /** Its name, e.g. 'EINVAL'. */
  readonly code: string;

  constructor(errno: number, path: string, message?: string) {
    const code = errnoName(errno) ?? `E${errno}`;
    super(message ?? `${code}: ${path}`);
    this.name = 'TreeError';
    this.errno = errno;
    this.code = code;
  }

  /** Converts a node:fs error (negative errno, code name) or rethrows anything else. */
  static from(err: unknown, path: string): TreeError {
    const e = err as NodeJS.ErrnoException;
    if (err instanceof TreeError) return err;
    if (isErrnoName(e?.code)) return new TreeError(errnoTable[e.code], path);
    throw err;
  }
}

/** `path` as root-relative components: empty parts and `.` dropped, `..` pops but never above the root. */
export function pathParts(path: string): string[] {
  const parts: string[] = [];
  for (const p of path.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return parts;
}
