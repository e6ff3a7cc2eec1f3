/**
 * What a kernfs file does, as small optional capabilities (one interface each) that a user combines into `FileOps`.
 * kernfs calls them with an `OpenedFile` (the per-open state) and the request's `OpContext` (caller + abort signal).
 * Any op may return a Promise: the request is parked until it settles, and `ctx.signal` aborts when the caller is
 * interrupted (kernfs then answers EINTR at once, but keeps the node busy until the Promise settles).
 */
import type { KernfsNode } from './node.js';
import type { Credentials, MaybePromise, OpContext } from './vfs.js';

/** One open(2) of a file, as file ops see it. */
export interface OpenedFile {
  /** The node opened (for files of a template directory: the transient node created at lookup). */
  readonly node: KernfsNode;
  /** open(2) flags (O_ACCMODE, O_TRUNC, O_APPEND, O_NONBLOCK…). */
  readonly flags: number;
  /** Who opened it. */
  readonly cred: Credentials;
  /** Private data of this open, free for the ops (kernfs's `of->priv`). Starts undefined. */
  priv: unknown;
  /**
   * Aborts when this open ends: the file is released, or its node is removed. Parked ops that wait on something
   * other than the request should watch it. Created on first use.
   */
  readonly signal: AbortSignal;
  /** Readiness may have changed: calls the `wake` the last poll of this open left (once). */
  wake(): void;
}

/**
 * seq_file-like content: generated whole on the first read (and again on any read at offset 0), served by offset.
 * Absent (and no `read` either): open for reading answers EACCES, as in Linux kernfs (sysfs).
 */
export interface ShowOp {
  show(file: OpenedFile, ctx: OpContext): MaybePromise<string | Uint8Array>;
}

/**
 * Raw reads: the op serves each (offset, size) itself. Returning fewer bytes than asked means end of file. Used only
 * when there is no `show`. Absent (and no `show`): open for reading answers EACCES.
 */
export interface ReadOp {
  read(file: OpenedFile, offset: number, size: number, ctx: OpContext): MaybePromise<string | Uint8Array>;
}

/**
 * Content fixed for the life of the node (an event's `format` and `id`, `README`): generated once per node from the
 * node alone, served to every open without `show`, and its byte length is the size stat(2) reports. Opens answer
 * `directIo: false`, so a transport may keep the content cached across opens (FUSE: keep-cache and the page cache).
 * Absent: content is generated per open and the size is 0 (or the one given), as in the kernel's tracefs. It must
 * answer at once and not throw: lookup and stat need its length.
 */
export interface ConstantOp {
  constant(node: KernfsNode): string | Uint8Array;
}

/** Absent: open for writing answers EACCES, as in Linux kernfs. */
export interface WriteOp {
  /**
   * Consume `data`. Returns the bytes consumed; `undefined` means all of them. Only with `shortWrites` is a smaller
   * count passed back to the writer (who then writes the rest again, as with the kernel's set_event).
   */
  write(file: OpenedFile, data: Uint8Array, offset: number, ctx: OpContext): MaybePromise<number | undefined>;
  /**
   * Writes longer than this fail with E2BIG instead of reaching the op in pieces (kernfs `atomic_write_len`).
   * Absent: any length reaches the op.
   */
  readonly atomicWriteLen?: number;
  /**
   * The op ignores the file offset and may consume less than it was given (one token per write). Absent (false):
   * kernfs reports every write as fully consumed, whatever the op returned.
   */
  readonly shortWrites?: boolean;
}

/** Absent: every open that passes the permission and handler checks succeeds, with nothing to prepare. */
export interface OpenOp {
  /** Called once per open(2) after permission checks; may reject it by throwing. O_TRUNC is in `file.flags`. */
  open(file: OpenedFile, ctx: OpContext): MaybePromise<void>;
}

/** Absent: nothing runs at the last close (kernfs still ends the open and aborts its `signal`). */
export interface ReleaseOp {
  /**
   * Called exactly once per successful open: at the last close, or when the node is removed, whichever comes first,
   * and only after every op in flight on that open has settled.
   */
  release(file: OpenedFile): void;
}

/**
 * Absent: poll answers ENOSYS, which a transport turns into "always readable and writable" (FUSE: the kernel's
 * DEFAULT_POLLMASK), as for a regular file.
 */
export interface PollOp {
  /** Current readiness (POLL* bits). Signal later changes with `file.wake()` or `Kernfs.wake(node)`. */
  poll(file: OpenedFile, ctx: OpContext): number;
}

/**
 * The capabilities of a file; any subset (each interface above says what its absence means). A file without
 * `show`/`read`/`constant` can't be opened for reading, one without `write` can't be opened for writing (EACCES at open).
 */
export type FileOps = Partial<ShowOp> &
  Partial<ReadOp> &
  Partial<ConstantOp> &
  Partial<WriteOp> &
  Partial<OpenOp> &
  Partial<ReleaseOp> &
  Partial<PollOp> & {
    /** Offsets mean nothing (a pipe): the transport tells the kernel not to seek. Absent (false): seekable. */
    readonly stream?: boolean;
  };

/** Whether a file with these ops can be opened for reading: it has `show`, `read` or `constant`. */
export function canRead(ops: FileOps): boolean {
  return ops.show !== undefined || ops.read !== undefined || ops.constant !== undefined;
}

/** What a template callback answers for a file that exists in a given directory. */
export interface TemplateFileSpec {
  /** Permission bits (the file-type bits are added by kernfs). */
  readonly mode: number;
  readonly ops: FileOps;
  /** The file's private data (`file.node.priv`); typically derived from the directory's data. */
  readonly priv?: unknown;
  /** Size reported by stat(2); 0 when absent, as generated files have. */
  readonly size?: number;
}

/**
 * Decides, for one directory of a kind, whether the file `name` exists there and what it is. Returns null/undefined
 * to hide it (eventfs's `ftrace/function` has no `enable`). Must be cheap and free of side effects: it runs on every
 * lookup and readdir.
 */
export type TemplateCallback<D> = (name: string, data: D) => TemplateFileSpec | null | undefined;

export interface TemplateEntry<D> {
  readonly name: string;
  readonly callback: TemplateCallback<D>;
}

/** A frozen table shared by every directory of a kind; its order is the listing order. */
export type TemplateTable<D> = readonly TemplateEntry<D>[];
