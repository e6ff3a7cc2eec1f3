/**
 * The VFS face of kernfs: everything a transport (FUSE today) needs to serve a kernfs tree, and nothing more.
 *
 * Rules every implementation keeps:
 * - Failures are thrown as `FsError` (see ./errors.ts) carrying the errno the syscall must return.
 * - Any operation may answer synchronously or with a Promise. A transport must not block its request loop on a
 *   Promise: it parks the request and replies when the Promise settles (a read of an empty pipe, for example).
 * - Inode numbers are JS numbers (< 2^53). The root is `ROOT_INO` (1), as FUSE requires.
 * - "Inode" objects live from the first `lookup` (or `readdir` with `plus`) that returns them until `forget` brings
 *   their lookup count back to zero. `.` and `..` are never counted.
 */

export const ROOT_INO = 1;

/** Who is asking. Transports fill it from the request header; `groups` are the caller's supplementary groups. */
export interface Credentials {
  readonly uid: number;
  readonly gid: number;
  readonly pid: number;
  readonly groups: readonly number[];
}

/** Per-request context: the caller, and a signal that aborts when the request is interrupted (FUSE INTERRUPT). */
export interface OpContext {
  readonly cred: Credentials;
  /** Present for operations that may park; aborted when the caller is interrupted or goes away. */
  readonly signal?: AbortSignal;
  /**
   * READ: the open file's flags as they are now (fcntl(F_SETFL) may have set or cleared O_NONBLOCK since open, as
   * trace-cmd does on trace_pipe_raw); absent where the transport does not say, then the open flags stand.
   */
  readonly fileFlags?: number;
  /**
   * READ: memory the transport lends for the answer, at least `size` bytes long. A read op may write its bytes at
   * its start and return `replyBuffer.subarray(0, n)`: the transport then sends them without a copy or an allocation.
   * It is the op's until that answer is sent (also when the op parks), then the transport reuses it for a later read:
   * keep no view of it past the answer. Absent when the transport has none free (the socket's four slots are out).
   */
  readonly replyBuffer?: Uint8Array;
}

export type NodeKind = 'dir' | 'file' | 'symlink';

/** Attributes as stat(2) reports them. `mode` includes the file-type bits (S_IFDIR, S_IFREG, S_IFLNK). */
export interface Attributes {
  readonly ino: number;
  readonly kind: NodeKind;
  readonly mode: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** Milliseconds since the epoch (fractions allowed). */
  readonly atimeMs: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

/**
 * How long the kernel may trust what it was told, in milliseconds. kernfs derives this from the node
 * (static tree shape vs. files whose attributes change); the transport may clamp it.
 */
export interface CacheHints {
  readonly entryValidMs: number;
  readonly attrValidMs: number;
}

/** The answer to a lookup (and to each READDIRPLUS entry): a counted reference to an inode. */
export interface Entry {
  readonly ino: number;
  /** Distinguishes reuses of an inode number over the life of the mount (NFS-export style). */
  readonly generation: number;
  readonly attr: Attributes;
  readonly cache: CacheHints;
}

/** Changes requested by setattr; absent fields stay as they are. Times: ms since epoch, or 'now'. */
export interface AttrChanges {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atimeMs?: number | 'now';
  mtimeMs?: number | 'now';
}

/** How an opened file must be treated by the transport and the kernel's page cache. */
export interface OpenResult {
  /** Handle passed back to read/write/flush/release/poll. */
  readonly fh: number;
  /** Bypass the page cache: content is generated on read and the size in getattr (0) means nothing. */
  readonly directIo: boolean;
  /** Offsets mean nothing (pipes): the kernel must not seek, and reads/writes ignore `offset`. */
  readonly stream: boolean;
  /** The file can be polled (POLL is answered, not ENOSYS). */
  readonly pollable: boolean;
}

export interface DirEntry {
  readonly name: string;
  readonly ino: number;
  readonly kind: NodeKind;
  /** Cookie to pass to readdir to continue *after* this entry. Never 0. */
  readonly next: number;
}

/**
 * Receives readdir entries in order. Returns false when the reply is full: that entry was NOT taken, and kernfs
 * stops there (the next readdir resumes at that entry's predecessor's `next`).
 */
export type DirFiller = (entry: DirEntry) => boolean;

export interface StatFs {
  readonly blocks: number;
  readonly bfree: number;
  readonly bavail: number;
  readonly files: number;
  readonly ffree: number;
  readonly bsize: number;
  readonly namelen: number;
  readonly frsize: number;
}

/** poll(2) bits, as in <poll.h>. */
export const POLLIN = 0x001;
export const POLLPRI = 0x002;
export const POLLOUT = 0x004;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;
export const POLLRDNORM = 0x040;

/**
 * Something the kernel may have cached changed. A transport turns these into FUSE invalidations
 * (NOTIFY_INVAL_INODE / NOTIFY_INVAL_ENTRY); kernfs only reports inodes the kernel currently knows (lookup count > 0)
 * and entries under directories it knows.
 */
export type VfsChange =
  | { readonly type: 'inode'; readonly ino: number }
  | { readonly type: 'entry'; readonly parent: number; readonly name: string };

export type MaybePromise<T> = T | Promise<T>;

/** Whether an operation answered later (a Promise: the transport parks the request) rather than now. */
export function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** The operations a transport calls. Every method may throw FsError. */
export interface Vfs {
  lookup(parent: number, name: string, ctx: OpContext): MaybePromise<Entry>;
  /** Drop `nlookup` references taken by lookups/readdirplus. Never throws. */
  forget(ino: number, nlookup: number): void;
  getattr(ino: number, ctx: OpContext): MaybePromise<Attributes>;
  setattr(ino: number, changes: AttrChanges, ctx: OpContext, fh?: number): MaybePromise<Attributes>;
  access(ino: number, mask: number, ctx: OpContext): MaybePromise<void>;
  readlink(ino: number, ctx: OpContext): MaybePromise<string>;

  /** `flags` are the open(2) flags (O_ACCMODE, O_TRUNC, O_NONBLOCK, O_APPEND…). */
  open(ino: number, flags: number, ctx: OpContext): MaybePromise<OpenResult>;
  read(fh: number, offset: number, size: number, ctx: OpContext): MaybePromise<Uint8Array>;
  /** Returns the number of bytes consumed (may be short, e.g. set_event takes one token per write). */
  write(fh: number, offset: number, data: Uint8Array, ctx: OpContext): MaybePromise<number>;
  flush(fh: number, ctx: OpContext): MaybePromise<void>;
  release(fh: number): void;
  /**
   * Current readiness (POLL* bits). If `wake` is given, kernfs calls it once, later, when readiness may have changed
   * (the transport then sends NOTIFY_POLL). A later poll of the same handle replaces the previous `wake`.
   */
  poll(fh: number, wake: (() => void) | undefined, ctx: OpContext): MaybePromise<number>;

  opendir(ino: number, ctx: OpContext): MaybePromise<number>;
  /**
   * Enumerate from `cookie` (0 = start), `.` and `..` included. Counts no lookups: a transport serving READDIRPLUS
   * calls `lookup` itself for each entry it took, except `.` and `..`.
   */
  readdir(dh: number, cookie: number, fill: DirFiller, ctx: OpContext): MaybePromise<void>;
  releasedir(dh: number): void;

  mkdir(parent: number, name: string, mode: number, ctx: OpContext): MaybePromise<Entry>;
  rmdir(parent: number, name: string, ctx: OpContext): MaybePromise<void>;
  unlink(parent: number, name: string, ctx: OpContext): MaybePromise<void>;
  rename(
    parent: number,
    name: string,
    newParent: number,
    newName: string,
    flags: number,
    ctx: OpContext,
  ): MaybePromise<void>;
  create(
    parent: number,
    name: string,
    mode: number,
    flags: number,
    ctx: OpContext,
  ): MaybePromise<{ entry: Entry; open: OpenResult }>;
  mknod(parent: number, name: string, mode: number, rdev: number, ctx: OpContext): MaybePromise<Entry>;
  symlink(parent: number, name: string, target: string, ctx: OpContext): MaybePromise<Entry>;
  link(ino: number, newParent: number, newName: string, ctx: OpContext): MaybePromise<Entry>;
  statfs(ino: number, ctx: OpContext): MaybePromise<StatFs>;

  /** Subscribe to cache-relevant changes; returns the unsubscribe function. */
  onChange(listener: (change: VfsChange) => void): () => void;
  /** Number of live inode objects (for tests and leak checks: back to its start value after forgetting everything). */
  liveInodes(): number;
}
