/**
 * The FUSE request loop: one blocking read of /dev/fuse per request, one write per reply, dispatch to a kernfs
 * `Vfs`. It runs on its own worker thread (see server-worker.ts) and never blocks on an operation's Promise: such
 * requests are parked and answered when they settle, which happens when the loop yields to the event loop — after a
 * request whose op returned a Promise, and after every doorbell wake-up.
 */
import { readSync, writeSync, writevSync } from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { errnoOf } from '../kernfs/errors.js';
import type {
  AttrChanges,
  Attributes,
  Credentials,
  DirEntry,
  Entry,
  MaybePromise,
  OpContext,
  OpenResult,
  StatFs,
  Vfs,
  VfsChange,
} from '../kernfs/vfs.js';
import { isPromise, ROOT_INO } from '../kernfs/vfs.js';
import { Caller, GroupCache } from './credentials.js';
import { STOP, WAKE_NAME } from './doorbell.js';
import { direntType, getU64, putAttr, putEntry, putNoEntry, putStatFs, putTimeout, putU64 } from './encode.js';
import { invalEntry, invalInode, pollWakeup } from './notify.js';
import {
  ATTR_OUT_SIZE,
  DIRENT_HEADER_SIZE,
  direntSize,
  ENTRY_OUT_SIZE,
  FATTR_ATIME,
  FATTR_ATIME_NOW,
  FATTR_FH,
  FATTR_GID,
  FATTR_MODE,
  FATTR_MTIME,
  FATTR_MTIME_NOW,
  FATTR_SIZE,
  FATTR_UID,
  FOPEN_DIRECT_IO,
  FOPEN_KEEP_CACHE,
  FOPEN_NONSEEKABLE,
  FOPEN_STREAM,
  FUSE_POLL_SCHEDULE_NOTIFY,
  IN_HEADER_SIZE,
  INIT_OUT_SIZE,
  InitFlag,
  KERNEL_VERSION,
  MAX_MINOR,
  MIN_MINOR,
  OPCODE_SLOTS,
  OPEN_OUT_SIZE,
  Op,
  OUT_HEADER_SIZE,
  PAGE_SIZE,
  STATFS_OUT_SIZE,
} from './protocol.js';

export interface ServerOptions {
  /** Largest WRITE payload the kernel may send (multiple of the page size). */
  readonly maxWrite: number;
  /** Attribute timeout for GETATTR of inodes we hold no Entry hints for (the root). */
  readonly rootAttrValidMs: number;
  /** Let the kernel cache directory listings (FOPEN_CACHE_DIR); kernfs changes invalidate them. */
  readonly dirCache: boolean;
}

/**
 * Where requests come from and replies go. As root both are the /dev/fuse descriptor and each read is one request;
 * through the unprivileged relay they are pipes, so requests are framed by their length.
 */
export interface ServerIO {
  readonly readFd: number;
  readonly writeFd: number;
  readonly framed: boolean;
}

export interface ServerHooks {
  /** INIT negotiated: the mount is usable. */
  initialized(info: { minor: number; flags: number }): void;
  /** A doorbell wake-up reached the server: drain messages, run wake callbacks. */
  woken(): void;
  /** Send a notification from a thread that may block (invalidations can wait on locks held by pending requests). */
  notifyOffThread(message: Uint8Array): void;
}

/** Statistics shared with the mounting thread: request counts per opcode, plus wakes and parked totals. */
export const STAT_WAKES = OPCODE_SLOTS;
export const STAT_PARKED = OPCODE_SLOTS + 1;
export const STAT_SLOTS = OPCODE_SLOTS + 2;

interface Parked {
  readonly opcode: number;
  /** The request's context when its op may be interrupted (INTERRUPT aborts its signal). */
  readonly ctx: AbortableContext | undefined;
}

/**
 * The context of a request that may be interrupted (open, read, write, poll). Its AbortController is made when
 * someone first asks for `signal`: most of these ops answer at once and never look at it, and a controller per
 * read was the loop's largest allocation.
 */
class AbortableContext implements OpContext {
  private controller: AbortController | undefined;
  private aborted = false;

  constructor(readonly cred: Credentials) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(); // asked for only after the interrupt: still aborted
    }
    return this.controller.signal;
  }

  abort(): void {
    this.aborted = true;
    this.controller?.abort();
  }
}

/** What the loop remembers of an open file, as bits (a number per open, no object): */
const FILE_STREAM = 1;
const FILE_POLLABLE = 2;

function fileBits(r: OpenResult): number {
  return (r.stream ? FILE_STREAM : 0) | (r.pollable ? FILE_POLLABLE : 0);
}

/** What poll(2) reports for a file that cannot be polled (the kernel's DEFAULT_POLLMASK): always ready. */
const DEFAULT_POLLMASK = 0x001 | 0x004 | 0x040 | 0x100;

/** A name taken by READDIR(PLUS): its encoded length is fixed when taken, so the reply size is known up front. */
interface Taken {
  readonly entry: DirEntry;
  readonly nameBytes: number;
}

const EINTR = 4;
const EIO = 5;
const ENOENT = 2;
const ENOSYS = 38;
const EPROTO = 71;

export class FuseServer {
  private readonly inBuf: Buffer;
  private readonly inView: DataView;
  private readonly outBuf: Buffer;
  private readonly outView: DataView;
  private readonly groups = new GroupCache();
  private readonly parked = new Map<number, Parked>();
  private readonly files = new Map<number, number>();
  /** Lookup counts the kernel holds, and each inode's attribute timeout (GETATTR has no hints of its own). */
  /**
   * GETATTR carries no timeout of its own: it reuses the attribute timeout of the inode's last entry. Trees give
   * nearly every entry the same one (kernfs: one hints object per tree), so the first entry's becomes the common
   * timeout and only inodes whose last entry said otherwise (and the root) are remembered, with their lookup count
   * so they are dropped when the kernel forgets them: LOOKUP and FORGET of a usual inode touch no map here.
   */
  private commonAttrValidMs: number | undefined;
  private readonly oddTimeouts = new Map<number, { n: number; attrValidMs: number }>();
  private readonly control: Int32Array;
  private readonly stats: Float64Array;
  private needYield = false;
  private initDone = false;
  private stopped = false;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly io: ServerIO,
    private readonly vfs: Vfs,
    private readonly options: ServerOptions,
    private readonly hooks: ServerHooks,
    control: SharedArrayBuffer,
    stats: SharedArrayBuffer,
  ) {
    // The kernel refuses reads into buffers smaller than one maximal request.
    this.inBuf = Buffer.allocUnsafe(options.maxWrite + 2 * PAGE_SIZE);
    this.inView = new DataView(this.inBuf.buffer, this.inBuf.byteOffset, this.inBuf.byteLength);
    this.outBuf = Buffer.alloc(options.maxWrite + 2 * PAGE_SIZE);
    this.outView = new DataView(this.outBuf.buffer, this.outBuf.byteOffset, this.outBuf.byteLength);
    this.control = new Int32Array(control);
    this.stats = new Float64Array(stats);
  }

  /** Serve until the mount goes away (ENODEV), DESTROY, or the control buffer's STOP flag. */
  async run(): Promise<void> {
    try {
      while (!this.stopped && Atomics.load(this.control, STOP) === 0) {
        let n: number;
        try {
          n = this.io.framed ? this.readFramed() : readSync(this.io.readFd, this.inBuf, 0, this.inBuf.length, null);
          if (n === 0) break; // relay closed: the connection is gone
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          // ENOENT: the request we were about to get was interrupted before we read it; EINTR/EAGAIN: retry.
          if (code === 'ENOENT' || code === 'EINTR' || code === 'EAGAIN') continue;
          if (code === 'ENODEV' || code === 'ECONNABORTED' || code === 'EBADF') break; // unmounted or aborted
          throw err;
        }
        this.dispatch(n);
        // Parked requests may have been settled by this request (a write feeding a waiting read): let them answer.
        if (this.needYield || this.parked.size > 0) {
          this.needYield = false;
          // Let settled Promises run their continuations (and write their replies) before blocking again.
          await yieldToEventLoop();
        }
      }
    } finally {
      this.stopped = true;
      this.unsubscribe?.();
      for (const p of this.parked.values()) p.ctx?.abort();
      this.parked.clear();
    }
  }

  /** One request from a byte stream (the unprivileged relay): the header's length says where it ends. 0 at EOF. */
  private readFramed(): number {
    if (!this.readExactly(0, IN_HEADER_SIZE)) return 0;
    const len = this.inView.getUint32(0, true);
    // A length we cannot frame means the stream is corrupt: nothing after it can be trusted, so end the connection.
    if (len < IN_HEADER_SIZE || len > this.inBuf.length) return 0;
    if (!this.readExactly(IN_HEADER_SIZE, len)) return 0;
    return len;
  }

  private readExactly(from: number, to: number): boolean {
    while (from < to) {
      const n = readSync(this.io.readFd, this.inBuf, from, to - from, null);
      if (n === 0) return false;
      from += n;
    }
    return true;
  }

  private dispatch(n: number): void {
    const v = this.inView;
    if (n < IN_HEADER_SIZE) return;
    const opcode = v.getUint32(4, true);
    const unique = getU64(v, 8);
    const nodeid = getU64(v, 16);
    if (opcode < OPCODE_SLOTS) this.stats[opcode]++;
    const end = Math.min(n, v.getUint32(0, true));
    const at = IN_HEADER_SIZE;
    try {
      switch (opcode) {
        case Op.INIT:
          this.init(unique, end);
          return;
        case Op.LOOKUP:
          this.lookup(unique, nodeid, this.str(at, end));
          return;
        case Op.FORGET:
          this.forget(nodeid, getU64(v, at));
          return;
        case Op.BATCH_FORGET:
          this.batchForget(end);
          return;
        case Op.GETATTR:
          this.getattr(unique, nodeid);
          return;
        case Op.SETATTR:
          this.setattr(unique, nodeid);
          return;
        case Op.READLINK:
          this.call(
            unique,
            opcode,
            false,
            (ctx) => this.vfs.readlink(nodeid, ctx),
            (s) => this.replyBytes(unique, Buffer.from(s, 'utf8')),
          );
          return;
        case Op.OPEN:
          this.open(unique, nodeid, v.getUint32(at, true));
          return;
        case Op.READ:
          this.read(unique);
          return;
        case Op.WRITE:
          this.write(unique, end);
          return;
        case Op.FLUSH:
          // kernfs files have no flush semantics (Linux kernfs has no ->flush either). ENOSYS once and the kernel
          // never sends FLUSH again: one request less per close(2).
          this.replyError(unique, ENOSYS);
          return;
        case Op.RELEASE: {
          const fh = getU64(v, at);
          this.files.delete(fh);
          this.release(unique, fh);
          return;
        }
        case Op.OPENDIR:
          if (this.options.dirCache) {
            // Zero-message opendir: after ENOSYS the kernel opens directories itself, never sends OPENDIR or
            // RELEASEDIR again, and caches listings (KEEP_CACHE|CACHE_DIR) until we invalidate them. Each READDIR
            // then opens its own kernfs handle (kernfs cookies are positions, so no state is lost).
            this.replyError(unique, ENOSYS);
            return;
          }
          this.call(
            unique,
            opcode,
            false,
            (ctx) => this.vfs.opendir(nodeid, ctx),
            (dh) => {
              if (!this.replyOpen(unique, dh, 0)) this.vfs.releasedir(dh);
            },
          );
          return;
        case Op.READDIR:
          this.readdir(unique, nodeid, false);
          return;
        case Op.READDIRPLUS:
          this.readdir(unique, nodeid, true);
          return;
        case Op.RELEASEDIR: {
          const dh = getU64(v, at);
          this.call(
            unique,
            opcode,
            false,
            () => this.vfs.releasedir(dh),
            () => this.replyEmpty(unique),
          );
          return;
        }
        case Op.MKDIR: {
          const mode = v.getUint32(at, true);
          const name = this.str(at + 8, end);
          this.entryCall(unique, opcode, (ctx) => this.vfs.mkdir(nodeid, name, mode, ctx));
          return;
        }
        case Op.MKNOD: {
          const mode = v.getUint32(at, true);
          const rdev = v.getUint32(at + 4, true);
          const name = this.str(at + 16, end);
          this.entryCall(unique, opcode, (ctx) => this.vfs.mknod(nodeid, name, mode, rdev, ctx));
          return;
        }
        case Op.SYMLINK: {
          const nul = this.inBuf.indexOf(0, at);
          const name = this.inBuf.toString('utf8', at, nul);
          const target = this.str(nul + 1, end);
          this.entryCall(unique, opcode, (ctx) => this.vfs.symlink(nodeid, name, target, ctx));
          return;
        }
        case Op.LINK: {
          const oldIno = getU64(v, at);
          const name = this.str(at + 8, end);
          this.entryCall(unique, opcode, (ctx) => this.vfs.link(oldIno, nodeid, name, ctx));
          return;
        }
        case Op.UNLINK:
        case Op.RMDIR: {
          const name = this.str(at, end);
          this.call(
            unique,
            opcode,
            false,
            (ctx) => (opcode === Op.UNLINK ? this.vfs.unlink(nodeid, name, ctx) : this.vfs.rmdir(nodeid, name, ctx)),
            () => this.replyEmpty(unique),
          );
          return;
        }
        case Op.RENAME:
        case Op.RENAME2: {
          const newDir = getU64(v, at);
          const flags = opcode === Op.RENAME2 ? v.getUint32(at + 8, true) : 0;
          const namesAt = at + (opcode === Op.RENAME2 ? 16 : 8);
          const nul = this.inBuf.indexOf(0, namesAt);
          const oldName = this.inBuf.toString('utf8', namesAt, nul);
          const newName = this.str(nul + 1, end);
          this.call(
            unique,
            opcode,
            false,
            (ctx) => this.vfs.rename(nodeid, oldName, newDir, newName, flags, ctx),
            () => this.replyEmpty(unique),
          );
          return;
        }
        case Op.CREATE:
          this.create(unique, nodeid, end);
          return;
        case Op.STATFS:
          this.call(
            unique,
            opcode,
            false,
            (ctx) => this.vfs.statfs(nodeid, ctx),
            (s) => this.replyStatfs(unique, s),
          );
          return;
        case Op.ACCESS: {
          const mask = v.getUint32(at, true);
          this.call(
            unique,
            opcode,
            false,
            (ctx) => this.vfs.access(nodeid, mask, ctx),
            () => this.replyEmpty(unique),
          );
          return;
        }
        case Op.POLL:
          this.poll(unique);
          return;
        case Op.INTERRUPT:
          this.interrupt(getU64(v, at));
          return;
        case Op.DESTROY:
          this.stopped = true;
          this.replyEmpty(unique);
          return;
        default:
          // Everything else (xattrs, locks, fsync, ioctl, lseek…): the kernel remembers ENOSYS and stops asking.
          this.replyError(unique, ENOSYS);
          return;
      }
    } catch (err) {
      // A malformed request or a bug in an op's synchronous part: answer it, never crash the loop.
      if (opcode !== Op.FORGET && opcode !== Op.BATCH_FORGET) this.replyError(unique, errnoOf(err));
    }
  }

  // ---- request context and generic call/park ----

  /** The caller of the request in inBuf (a new object: an op may keep it, as an open file does). */
  private caller(): Caller {
    const v = this.inView;
    return new Caller(v.getUint32(24, true), v.getUint32(28, true), v.getUint32(32, true), this.groups);
  }

  private ctx(abortable: boolean): OpContext {
    return abortable ? new AbortableContext(this.caller()) : { cred: this.caller() };
  }

  /**
   * Run an op; answer now if it answered synchronously, else park the request until its Promise settles.
   * `done` writes the reply; `drop` releases what a result holds when nobody can receive it any more.
   */
  private call<T>(
    unique: number,
    opcode: number,
    abortable: boolean,
    op: (ctx: OpContext) => MaybePromise<T>,
    done: (value: T) => void,
    drop?: (value: T) => void,
  ): void {
    const ctx = this.ctx(abortable);
    let result: MaybePromise<T>;
    try {
      result = op(ctx);
    } catch (err) {
      this.replyError(unique, errnoOf(err));
      return;
    }
    if (!isPromise(result)) {
      this.finish(unique, result, done);
      return;
    }
    this.park(unique, opcode, ctx instanceof AbortableContext ? ctx : undefined, result, done, drop);
  }

  private park<T>(
    unique: number,
    opcode: number,
    ctx: AbortableContext | undefined,
    result: Promise<T>,
    done: (value: T) => void,
    drop?: (value: T) => void,
  ): void {
    const parked: Parked = { opcode, ctx };
    this.parked.set(unique, parked);
    this.stats[STAT_PARKED]++;
    this.needYield = true;
    result.then(
      (value) => {
        if (this.parked.get(unique) !== parked) {
          drop?.(value); // interrupted and already answered with EINTR
          return;
        }
        this.parked.delete(unique);
        this.finish(unique, value, done);
      },
      (err: unknown) => {
        if (this.parked.get(unique) !== parked) return;
        this.parked.delete(unique);
        this.replyError(unique, errnoOf(err));
      },
    );
  }

  private finish<T>(unique: number, value: T, done: (value: T) => void): void {
    try {
      done(value);
    } catch {
      // The op returned something we cannot encode (a bug upstream): the caller still gets an answer.
      this.replyError(unique, EIO);
    }
  }

  private entryCall(unique: number, opcode: number, op: (ctx: OpContext) => MaybePromise<Entry>): void {
    this.call(
      unique,
      opcode,
      false,
      op,
      (e) => this.replyEntry(unique, e),
      (e) => this.vfs.forget(e.ino, 1),
    );
  }

  // ---- operations ----

  private init(unique: number, end: number): void {
    const v = this.inView;
    const major = v.getUint32(IN_HEADER_SIZE, true);
    const minor = v.getUint32(IN_HEADER_SIZE + 4, true);
    const maxReadahead = v.getUint32(IN_HEADER_SIZE + 8, true);
    const kernelFlags = end >= IN_HEADER_SIZE + 16 ? v.getUint32(IN_HEADER_SIZE + 12, true) : 0;
    if (major !== KERNEL_VERSION || minor < MIN_MINOR) {
      this.replyError(unique, EPROTO);
      this.stopped = true;
      return;
    }
    const wanted =
      InitFlag.ATOMIC_O_TRUNC | // O_TRUNC arrives in OPEN's flags instead of a separate SETATTR(size=0)
      InitFlag.BIG_WRITES |
      InitFlag.AUTO_INVAL_DATA |
      InitFlag.DO_READDIRPLUS |
      InitFlag.READDIRPLUS_AUTO |
      InitFlag.PARALLEL_DIROPS |
      InitFlag.ABORT_ERROR |
      InitFlag.MAX_PAGES |
      InitFlag.CACHE_SYMLINKS;
    // Not ASYNC_READ: reads of one file arrive in order, which stream files rely on.
    const flags = wanted & kernelFlags;
    const o = this.outView;
    const b = OUT_HEADER_SIZE;
    this.outBuf.fill(0, b, b + INIT_OUT_SIZE);
    o.setUint32(b, KERNEL_VERSION, true);
    o.setUint32(b + 4, Math.min(minor, MAX_MINOR), true);
    o.setUint32(b + 8, maxReadahead, true);
    o.setUint32(b + 12, flags, true);
    o.setUint16(b + 16, 16, true); // max_background
    o.setUint16(b + 18, 12, true); // congestion_threshold
    o.setUint32(b + 20, this.options.maxWrite, true);
    o.setUint32(b + 24, 1, true); // time_gran: nanoseconds
    o.setUint16(b + 28, Math.max(1, this.options.maxWrite / PAGE_SIZE), true); // max_pages
    this.send(unique, 0, INIT_OUT_SIZE);
    this.initDone = true;
    this.unsubscribe = this.vfs.onChange((change) => this.invalidate(change));
    this.hooks.initialized({ minor: Math.min(minor, MAX_MINOR), flags });
  }

  private lookup(unique: number, parent: number, name: string): void {
    if (parent === 1 && name === WAKE_NAME) {
      this.replyError(unique, ENOENT);
      this.stats[STAT_WAKES]++;
      this.needYield = true;
      this.hooks.woken();
      return;
    }
    // The hottest request: no closures unless it parks.
    let r: MaybePromise<Entry>;
    try {
      r = this.vfs.lookup(parent, name, this.ctx(false));
    } catch (err) {
      this.replyError(unique, errnoOf(err));
      return;
    }
    if (isPromise(r)) {
      this.park(
        unique,
        Op.LOOKUP,
        undefined,
        r,
        (e) => this.replyEntry(unique, e),
        (e) => this.vfs.forget(e.ino, 1),
      );
    } else {
      try {
        this.replyEntry(unique, r);
      } catch {
        this.replyError(unique, EIO); // an Entry we cannot encode: a bug upstream, still an answer
      }
    }
  }

  private forget(ino: number, n: number): void {
    const k = this.oddTimeouts.size > 0 ? this.oddTimeouts.get(ino) : undefined;
    if (k) {
      k.n -= n;
      if (k.n <= 0) this.oddTimeouts.delete(ino);
    }
    try {
      this.vfs.forget(ino, n);
    } catch {
      // forget never fails by contract; a throwing implementation must not stop the loop
    }
  }

  private batchForget(end: number): void {
    const v = this.inView;
    const count = v.getUint32(IN_HEADER_SIZE, true);
    let at = IN_HEADER_SIZE + 8;
    for (let i = 0; i < count && at + 16 <= end; i++, at += 16) this.forget(getU64(v, at), getU64(v, at + 8));
  }

  private getattr(unique: number, ino: number): void {
    let r: MaybePromise<Attributes>;
    try {
      r = this.vfs.getattr(ino, this.ctx(false));
    } catch (err) {
      this.replyError(unique, errnoOf(err));
      return;
    }
    if (isPromise(r)) this.park(unique, Op.GETATTR, undefined, r, (a) => this.replyAttr(unique, a));
    else {
      try {
        this.replyAttr(unique, r);
      } catch {
        this.replyError(unique, EIO);
      }
    }
  }

  private setattr(unique: number, ino: number): void {
    const v = this.inView;
    const at = IN_HEADER_SIZE;
    const valid = v.getUint32(at, true);
    const changes: AttrChanges = {};
    if (valid & FATTR_MODE) changes.mode = v.getUint32(at + 68, true);
    if (valid & FATTR_UID) changes.uid = v.getUint32(at + 76, true);
    if (valid & FATTR_GID) changes.gid = v.getUint32(at + 80, true);
    if (valid & FATTR_SIZE) changes.size = getU64(v, at + 16);
    if (valid & FATTR_ATIME_NOW) changes.atimeMs = 'now';
    else if (valid & FATTR_ATIME) changes.atimeMs = getU64(v, at + 32) * 1000 + v.getUint32(at + 56, true) / 1e6;
    if (valid & FATTR_MTIME_NOW) changes.mtimeMs = 'now';
    else if (valid & FATTR_MTIME) changes.mtimeMs = getU64(v, at + 40) * 1000 + v.getUint32(at + 60, true) / 1e6;
    const fh = valid & FATTR_FH ? getU64(v, at + 8) : undefined;
    this.call(
      unique,
      Op.SETATTR,
      false,
      (ctx) => this.vfs.setattr(ino, changes, ctx, fh),
      (a) => this.replyAttr(unique, a),
    );
  }

  private openFlags(r: OpenResult): number {
    let f = 0;
    if (r.directIo || r.stream) f |= FOPEN_DIRECT_IO;
    else f |= FOPEN_KEEP_CACHE; // content is stable until kernfs says otherwise (INVAL_INODE)
    if (r.stream) f |= FOPEN_STREAM | FOPEN_NONSEEKABLE;
    return f;
  }

  // OPEN, READ and RELEASE are what every cat(1) of a file costs besides its lookup: like lookup and getattr they
  // answer a synchronous op directly, with no closures, and only build the park callbacks when the op returns a
  // Promise.

  private open(unique: number, ino: number, flags: number): void {
    const ctx = new AbortableContext(this.caller());
    let r: MaybePromise<OpenResult>;
    try {
      r = this.vfs.open(ino, flags, ctx);
    } catch (err) {
      this.replyError(unique, errnoOf(err));
      return;
    }
    if (isPromise(r)) {
      this.park(
        unique,
        Op.OPEN,
        ctx,
        r,
        (o) => this.replyOpened(unique, o),
        (o) => this.vfs.release(o.fh),
      );
    } else {
      try {
        this.replyOpened(unique, r);
      } catch {
        this.replyError(unique, EIO); // an OpenResult we cannot encode: a bug upstream, still an answer
      }
    }
  }

  private replyOpened(unique: number, r: OpenResult): void {
    this.files.set(r.fh, fileBits(r));
    if (!this.replyOpen(unique, r.fh, this.openFlags(r))) {
      this.files.delete(r.fh);
      this.vfs.release(r.fh);
    }
  }

  private release(unique: number, fh: number): void {
    let r: MaybePromise<void>;
    try {
      r = this.vfs.release(fh);
    } catch (err) {
      this.replyError(unique, errnoOf(err));
      return;
    }
    if (isPromise(r)) this.park(unique, Op.RELEASE, undefined, r, () => this.replyEmpty(unique));
    else this.replyEmpty(unique);
  }

  private create(unique: number, parent: number, end: number): void {
    const v = this.inView;
    const at = IN_HEADER_SIZE;
    const flags = v.getUint32(at, true);
    const mode = v.getUint32(at + 4, true);
    const name = this.str(at + 16, end);
    this.call(
      unique,
      Op.CREATE,
      false,
      (ctx) => this.vfs.create(parent, name, mode, flags, ctx),
      (r) => {
        this.files.set(r.open.fh, fileBits(r.open));
        const o = this.outView;
        const b = OUT_HEADER_SIZE;
        putEntry(o, b, r.entry);
        putU64(o, b + ENTRY_OUT_SIZE, r.open.fh);
        o.setUint32(b + ENTRY_OUT_SIZE + 8, this.openFlags(r.open), true);
        o.setUint32(b + ENTRY_OUT_SIZE + 12, 0, true);
        this.countLookup(r.entry);
        if (!this.send(unique, 0, ENTRY_OUT_SIZE + OPEN_OUT_SIZE)) {
          this.uncount(r.entry);
          this.files.delete(r.open.fh);
          this.vfs.release(r.open.fh);
        }
      },
      (r) => {
        this.vfs.release(r.open.fh);
        this.vfs.forget(r.entry.ino, 1);
      },
    );
  }

  private read(unique: number): void {
    const v = this.inView;
    const at = IN_HEADER_SIZE;
    const fh = getU64(v, at);
    const offset = ((this.files.get(fh) ?? 0) & FILE_STREAM) !== 0 ? 0 : getU64(v, at + 8);
    const size = v.getUint32(at + 16, true);
    const ctx = new AbortableContext(this.caller());
    let r: MaybePromise<Uint8Array>;
    try {
      r = this.vfs.read(fh, offset, size, ctx);
    } catch (err) {
      this.replyError(unique, errnoOf(err));
      return;
    }
    if (isPromise(r)) this.park(unique, Op.READ, ctx, r, (data) => this.replyRead(unique, data, size));
    else {
      try {
        this.replyRead(unique, r, size);
      } catch {
        this.replyError(unique, EIO); // not bytes: a bug upstream, still an answer
      }
    }
  }

  private replyRead(unique: number, data: Uint8Array, size: number): void {
    this.replyBytes(unique, data.byteLength > size ? data.subarray(0, size) : data);
  }

  private write(unique: number, end: number): void {
    const v = this.inView;
    const at = IN_HEADER_SIZE;
    const fh = getU64(v, at);
    const offset = ((this.files.get(fh) ?? 0) & FILE_STREAM) !== 0 ? 0 : getU64(v, at + 8);
    const size = v.getUint32(at + 16, true);
    const dataAt = at + 40;
    // Copy: the input buffer is reused by the next read while the op may still hold the data.
    const data = Uint8Array.prototype.slice.call(this.inBuf, dataAt, Math.min(end, dataAt + size));
    this.call(
      unique,
      Op.WRITE,
      true,
      (ctx) => this.vfs.write(fh, offset, data, ctx),
      (written) => {
        this.outView.setUint32(OUT_HEADER_SIZE, written, true);
        this.outView.setUint32(OUT_HEADER_SIZE + 4, 0, true);
        this.send(unique, 0, 8);
      },
    );
  }

  private readdir(unique: number, ino: number, plus: boolean): void {
    const v = this.inView;
    const at = IN_HEADER_SIZE;
    const fh = getU64(v, at);
    const cookie = getU64(v, at + 8);
    const size = Math.min(v.getUint32(at + 16, true), this.outBuf.length - OUT_HEADER_SIZE);
    const taken: Taken[] = [];
    let used = 0;
    const fill = (entry: DirEntry): boolean => {
      const nameBytes = Buffer.byteLength(entry.name, 'utf8');
      const need = direntSize(nameBytes, plus);
      if (used + need > size) return false;
      used += need;
      taken.push({ entry, nameBytes });
      return true;
    };
    const list = (dh: number, ctx: OpContext): MaybePromise<(Entry | undefined)[] | undefined> => {
      const r = this.vfs.readdir(dh, cookie, fill, ctx);
      if (!plus) return isPromise(r) ? r.then(() => undefined) : undefined;
      // READDIRPLUS: every taken name but `.`/`..` becomes a counted lookup, as if looked up one by one.
      const withEntries = () => this.lookupAll(ino, taken, ctx);
      return isPromise(r) ? r.then(withEntries) : withEntries();
    };
    this.call(
      unique,
      plus ? Op.READDIRPLUS : Op.READDIR,
      false,
      (ctx) => {
        if (!this.options.dirCache) return list(fh, ctx);
        // No OPENDIR was sent (zero-message opendir): a handle for this request only.
        const opened = this.vfs.opendir(ino, ctx);
        const run = (dh: number) => {
          let r: MaybePromise<(Entry | undefined)[] | undefined>;
          try {
            r = list(dh, ctx);
          } catch (err) {
            this.vfs.releasedir(dh);
            throw err;
          }
          if (!isPromise(r)) {
            this.vfs.releasedir(dh);
            return r;
          }
          return r.finally(() => this.vfs.releasedir(dh));
        };
        return isPromise(opened) ? opened.then(run) : run(opened);
      },
      (entries) => this.replyDir(unique, taken, entries),
      (entries) => {
        if (entries) for (const e of entries) if (e) this.vfs.forget(e.ino, 1);
      },
    );
  }

  /** Entries for READDIRPLUS, index-aligned with `taken`; undefined for `.`/`..` and names that vanished. */
  private lookupAll(dir: number, taken: readonly Taken[], ctx: OpContext): MaybePromise<(Entry | undefined)[]> {
    const out: (Entry | undefined)[] = new Array(taken.length);
    let pending: Promise<void>[] | undefined;
    for (let i = 0; i < taken.length; i++) {
      const name = taken[i].entry.name;
      if (name === '.' || name === '..') continue;
      try {
        const r = this.vfs.lookup(dir, name, ctx);
        if (isPromise(r)) {
          pending ??= [];
          pending.push(
            r.then(
              (e) => {
                out[i] = e;
              },
              () => {},
            ),
          );
        } else out[i] = r;
      } catch {
        // vanished between readdir and lookup: sent without an inode, like the kernel's own "invalid dentry"
      }
    }
    return pending ? Promise.all(pending).then(() => out) : out;
  }

  private poll(unique: number): void {
    const v = this.inView;
    const at = IN_HEADER_SIZE;
    const fh = getU64(v, at);
    const khLo = v.getUint32(at + 8, true);
    const khHi = v.getUint32(at + 12, true);
    const flags = v.getUint32(at + 16, true);
    const reply = (revents: number) => {
      this.outView.setUint32(OUT_HEADER_SIZE, revents, true);
      this.outView.setUint32(OUT_HEADER_SIZE + 4, 0, true);
      this.send(unique, 0, 8);
    };
    // Never ENOSYS: the kernel would stop sending POLL for every file of the mount, pollable ones included.
    const bits = this.files.get(fh);
    if (bits !== undefined && (bits & FILE_POLLABLE) === 0) {
      reply(DEFAULT_POLLMASK);
      return;
    }
    const wake = flags & FUSE_POLL_SCHEDULE_NOTIFY ? () => this.notifyPoll(khLo, khHi) : undefined;
    this.call(
      unique,
      Op.POLL,
      true,
      (ctx) => {
        try {
          const r = this.vfs.poll(fh, wake, ctx);
          return isPromise(r)
            ? r.catch((err) => (errnoOf(err) === ENOSYS ? DEFAULT_POLLMASK : Promise.reject(err)))
            : r;
        } catch (err) {
          if (errnoOf(err) === ENOSYS) return DEFAULT_POLLMASK;
          throw err;
        }
      },
      reply,
    );
  }

  private interrupt(target: number): void {
    const p = this.parked.get(target);
    if (!p) return; // already answered, or never parked: the kernel's answer comes from that reply
    this.parked.delete(target);
    p.ctx?.abort();
    this.replyError(target, EINTR);
  }

  // ---- replies ----

  private str(at: number, end: number): string {
    let nul = this.inBuf.indexOf(0, at);
    if (nul < 0 || nul > end) nul = end;
    return this.inBuf.toString('utf8', at, nul);
  }

  /** Write header + `len` body bytes already in outBuf. False if the kernel no longer waits for this reply. */
  private send(unique: number, error: number, len: number): boolean {
    const o = this.outView;
    const total = OUT_HEADER_SIZE + len;
    o.setUint32(0, total, true);
    o.setInt32(4, -error, true);
    putU64(o, 8, unique);
    try {
      writeSync(this.io.writeFd, this.outBuf, 0, total);
      return true;
    } catch {
      // ENOENT: the request was interrupted/aborted meanwhile; anything else: the connection is going away.
      return false;
    }
  }

  private replyError(unique: number, errno: number): void {
    this.send(unique, errno > 0 ? errno : EIO, 0);
  }

  private replyEmpty(unique: number): void {
    this.send(unique, 0, 0);
  }

  private countLookup(e: Entry): void {
    const ttl = e.cache.attrValidMs;
    this.commonAttrValidMs ??= ttl;
    const k = this.oddTimeouts.size > 0 ? this.oddTimeouts.get(e.ino) : undefined;
    if (k) {
      k.n++;
      k.attrValidMs = ttl;
    } else if (ttl !== this.commonAttrValidMs || e.ino === ROOT_INO) {
      this.oddTimeouts.set(e.ino, { n: 1, attrValidMs: ttl });
    }
  }

  private uncount(e: Entry): void {
    this.forget(e.ino, 1);
  }

  private replyEntry(unique: number, e: Entry): void {
    putEntry(this.outView, OUT_HEADER_SIZE, e);
    this.countLookup(e);
    if (!this.send(unique, 0, ENTRY_OUT_SIZE)) this.uncount(e);
  }

  private replyAttr(unique: number, a: Attributes): void {
    const o = this.outView;
    const b = OUT_HEADER_SIZE;
    const odd = this.oddTimeouts.size > 0 ? this.oddTimeouts.get(a.ino) : undefined;
    const ttl =
      odd?.attrValidMs ??
      (a.ino === ROOT_INO ? this.options.rootAttrValidMs : (this.commonAttrValidMs ?? this.options.rootAttrValidMs));
    putTimeout(o, b, b + 8, ttl);
    o.setUint32(b + 12, 0, true);
    putAttr(o, b + 16, a);
    this.send(unique, 0, ATTR_OUT_SIZE);
  }

  /** False when nobody got the handle (the opener was interrupted): the kernel will never release it, so we must. */
  private replyOpen(unique: number, fh: number, openFlags: number): boolean {
    const o = this.outView;
    putU64(o, OUT_HEADER_SIZE, fh);
    o.setUint32(OUT_HEADER_SIZE + 8, openFlags, true);
    o.setUint32(OUT_HEADER_SIZE + 12, 0, true);
    return this.send(unique, 0, OPEN_OUT_SIZE);
  }

  private replyStatfs(unique: number, s: StatFs): void {
    putStatFs(this.outView, OUT_HEADER_SIZE, s);
    this.send(unique, 0, STATFS_OUT_SIZE);
  }

  private replyBytes(unique: number, data: Uint8Array): void {
    if (data.byteLength <= this.outBuf.length - OUT_HEADER_SIZE) {
      // Small replies (nearly all): one copy into the reply buffer beats a writev and a header allocation.
      this.outBuf.set(data, OUT_HEADER_SIZE);
      this.send(unique, 0, data.byteLength);
      return;
    }
    const header = Buffer.allocUnsafe(OUT_HEADER_SIZE);
    const hv = new DataView(header.buffer, header.byteOffset, OUT_HEADER_SIZE);
    hv.setUint32(0, OUT_HEADER_SIZE + data.byteLength, true);
    hv.setInt32(4, 0, true);
    putU64(hv, 8, unique);
    try {
      // One writev: the kernel takes the reply as a single message.
      writevSync(this.io.writeFd, [header, data]);
    } catch {
      // the reader went away (interrupted): nothing to undo for plain data
    }
  }

  private replyDir(unique: number, taken: readonly Taken[], entries: readonly (Entry | undefined)[] | undefined): void {
    const o = this.outView;
    const buf = this.outBuf;
    let at = OUT_HEADER_SIZE;
    for (let i = 0; i < taken.length; i++) {
      const { entry, nameBytes } = taken[i];
      const start = at;
      if (entries) {
        const e = entries[i];
        if (e) {
          putEntry(o, at, e);
          this.countLookup(e);
        } else putNoEntry(buf, at);
        at += ENTRY_OUT_SIZE;
      }
      putU64(o, at, entry.ino);
      putU64(o, at + 8, entry.next);
      o.setUint32(at + 16, nameBytes, true);
      o.setUint32(at + 20, direntType(entry.kind), true);
      buf.write(entry.name, at + DIRENT_HEADER_SIZE, nameBytes, 'utf8');
      const end = start + direntSize(nameBytes, entries !== undefined);
      buf.fill(0, at + DIRENT_HEADER_SIZE + nameBytes, end); // alignment padding
      at = end;
    }
    if (!this.send(unique, 0, at - OUT_HEADER_SIZE) && entries) {
      for (const e of entries) if (e) this.uncount(e);
    }
  }

  // ---- notifications ----

  private notifyPoll(khLo: number, khHi: number): void {
    if (this.stopped) return;
    try {
      // Poll wake-ups take no locks in the kernel: safe to send from the serving thread.
      writeSync(this.io.writeFd, pollWakeup(khLo, khHi));
    } catch {
      // the poller is gone
    }
  }

  private invalidate(change: VfsChange): void {
    if (!this.initDone || this.stopped) return;
    // kernfs follows an entry change with an inode change of the parent: that one drops the cached listing.
    this.hooks.notifyOffThread(
      change.type === 'inode' ? invalInode(change.ino) : invalEntry(change.parent, change.name),
    );
  }
}
