/**
 * The FUSE request loop: one blocking read of /dev/fuse per request, one write per reply, dispatch to a kernfs
 * `Vfs`. It runs on its own worker thread (see server-worker.ts) and never blocks on an operation's Promise: such
 * requests are parked and answered when they settle, which happens when the loop yields to the event loop — after a
 * request whose op returned a Promise, and after every doorbell wake-up.
 */
import { readSync, writeSync, writevSync } from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { EINTR, EIO, ENODEV, ENOENT, ENOSYS, EPROTO } from '../errno.js';
import { errnoOf, FsError } from '../kernfs/errors.js';
import type {
  Attributes,
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
import { GroupCache } from './credentials.js';
import { Request } from './decode.js';
import { STOP, WAKE_NAME } from './doorbell.js';
import { direntType, putAttr, putEntry, putNoEntry, putStatFs, putTimeout, putU64 } from './encode.js';
import { invalEntry, invalInode, pollWakeup } from './notify.js';
import {
  ATTR_OUT_SIZE,
  DIRENT_HEADER_SIZE,
  direntSize,
  ENTRY_OUT_SIZE,
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
import { RequestContext } from './request-context.js';

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
  readonly ctx: RequestContext | undefined;
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

/** What READDIR(PLUS) answers: the names taken and, for READDIRPLUS, their entries (index-aligned). */
interface Listing {
  readonly taken: readonly Taken[];
  readonly entries: readonly (Entry | undefined)[] | undefined;
}

type Created = { entry: Entry; open: OpenResult };

/** Writes the answer to request `unique` from its op's result; `arg` is passed through (READ: the size asked). */
type Reply<T> = (unique: number, value: T, arg: number) => void;
/** Releases what a result holds when nobody can receive it any more. */
type Drop<T> = (value: T) => void;

/**
 * A directory handle for one READDIR under zero-message opendir. It stands for the process's own opendir, which the
 * kernel answered without us: a directory removed since then lists with EINVAL (the kernel's answer for a removed
 * directory held open), not the ENODEV a fresh open of it meets.
 */
function openForListing(vfs: Vfs, ino: number, ctx: OpContext): MaybePromise<number> {
  const removedIsInvalid = (err: unknown): never => {
    throw errnoOf(err) === ENODEV ? new FsError('EINVAL') : err;
  };
  try {
    const dh = vfs.opendir(ino, ctx);
    return isPromise(dh) ? dh.catch(removedIsInvalid) : dh;
  } catch (err) {
    return removedIsInvalid(err);
  }
}

/**
 * Memory lent to a READ's op for its answer (`ctx.replyBuffer` is `body`), with room for the reply header in front
 * of it: an op that writes there is answered by one write from this buffer, no copy and no allocation.
 */
class LentBuffer {
  readonly bytes: Buffer;
  readonly view: DataView;
  readonly body: Buffer;

  constructor(bodySize: number) {
    this.bytes = Buffer.allocUnsafeSlow(OUT_HEADER_SIZE + bodySize);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    this.body = this.bytes.subarray(OUT_HEADER_SIZE);
  }

  /** Whether `data` starts where this buffer's body does (the op answered in the memory it was lent). */
  holds(data: Uint8Array): boolean {
    return data.buffer === this.bytes.buffer && data.byteOffset === this.body.byteOffset;
  }
}

export class FuseServer {
  private readonly req: Request;
  private readonly outBuf: Buffer;
  private readonly outView: DataView;
  /**
   * The memory READs are lent, reused by every read answered at once. A read that parks keeps it (its op may still
   * write there) and the next read gets a new one.
   */
  private lent: LentBuffer | undefined;
  private readonly groups = new GroupCache();
  private readonly parked = new Map<number, Parked>();
  private readonly files = new Map<number, number>();
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
    this.req = new Request(options.maxWrite + 2 * PAGE_SIZE);
    this.outBuf = Buffer.alloc(options.maxWrite + 2 * PAGE_SIZE);
    this.outView = new DataView(this.outBuf.buffer, this.outBuf.byteOffset, this.outBuf.byteLength);
    this.control = new Int32Array(control);
    this.stats = new Float64Array(stats);
  }

  /** Serve until the mount goes away (ENODEV), DESTROY, or the control buffer's STOP flag. */
  async run(): Promise<void> {
    const inBuf = this.req.bytes;
    try {
      while (!this.stopped && Atomics.load(this.control, STOP) === 0) {
        let n: number;
        try {
          n = this.io.framed ? this.readFramed() : readSync(this.io.readFd, inBuf, 0, inBuf.length, null);
          if (n === 0) break; // relay closed: the connection is gone
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          // ENOENT: the request we were about to get was interrupted before we read it; EINTR/EAGAIN: retry.
          if (code === 'ENOENT' || code === 'EINTR' || code === 'EAGAIN') continue;
          if (code === 'ENODEV' || code === 'ECONNABORTED' || code === 'EBADF') break; // unmounted or aborted
          throw err;
        }
        if (this.req.load(n)) this.dispatch();
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
    const len = this.req.declaredLength();
    // A length we cannot frame means the stream is corrupt: nothing after it can be trusted, so end the connection.
    if (len < IN_HEADER_SIZE || len > this.req.bytes.length) return 0;
    if (!this.readExactly(IN_HEADER_SIZE, len)) return 0;
    return len;
  }

  private readExactly(from: number, to: number): boolean {
    while (from < to) {
      const n = readSync(this.io.readFd, this.req.bytes, from, to - from, null);
      if (n === 0) return false;
      from += n;
    }
    return true;
  }

  /** One request, loaded in `req`: decode its body, run its op, answer (or park). */
  private dispatch(): void {
    const req = this.req;
    const { opcode, unique, nodeid } = req;
    if (opcode < OPCODE_SLOTS) this.stats[opcode]++;
    const vfs = this.vfs;
    try {
      switch (opcode) {
        case Op.INIT:
          this.init();
          return;
        case Op.LOOKUP:
          this.lookup(nodeid, req.name());
          return;
        case Op.FORGET:
          this.forget(nodeid, req.nlookup());
          return;
        case Op.BATCH_FORGET:
          for (let i = 0, n = req.forgetCount(); i < n; i++) this.forget(req.forgetNodeid(i), req.forgetNlookup(i));
          return;
        case Op.GETATTR:
          this.answer(undefined, vfs.getattr(nodeid, this.ctx()), this.replyAttr);
          return;
        case Op.SETATTR: {
          const { changes, fh } = req.setattr();
          this.answer(undefined, vfs.setattr(nodeid, changes, this.ctx(), fh), this.replyAttr);
          return;
        }
        case Op.READLINK:
          this.answer(undefined, vfs.readlink(nodeid, this.ctx()), this.replyString);
          return;
        case Op.OPEN: {
          const ctx = this.abortableCtx();
          this.answer(ctx, vfs.open(nodeid, req.openFlags(), ctx), this.replyOpened, 0, this.dropOpened);
          return;
        }
        case Op.READ: {
          const fh = req.fh();
          const size = req.size();
          const ctx = this.abortableCtx();
          ctx.fileFlags = req.readFileFlags();
          // The kernel never asks for more than max_write (max_pages) bytes; a larger size would get no loan.
          if (size <= this.options.maxWrite) {
            this.lent ??= new LentBuffer(this.options.maxWrite);
            ctx.replyBuffer = this.lent.body;
          }
          const result = vfs.read(fh, this.fileOffset(fh), size, ctx);
          if (isPromise(result)) this.lent = undefined; // the parked op keeps its loan
          this.answer(ctx, result, this.replyRead, size);
          return;
        }
        case Op.WRITE: {
          const fh = req.fh();
          const ctx = this.abortableCtx();
          this.answer(ctx, vfs.write(fh, this.fileOffset(fh), req.writeData(), ctx), this.replyWritten);
          return;
        }
        case Op.FLUSH:
          // kernfs files have no flush semantics (Linux kernfs has no ->flush either). ENOSYS once and the kernel
          // never sends FLUSH again: one request less per close(2).
          this.replyError(unique, ENOSYS);
          return;
        case Op.RELEASE: {
          const fh = req.fh();
          this.files.delete(fh);
          this.answer(undefined, vfs.release(fh), this.replyEmpty);
          return;
        }
        case Op.OPENDIR:
          // Zero-message opendir: after ENOSYS the kernel opens directories itself, never sends OPENDIR or
          // RELEASEDIR again, and caches listings (KEEP_CACHE|CACHE_DIR) until we invalidate them. Each READDIR
          // then opens its own kernfs handle (kernfs cookies are positions, so no state is lost).
          if (this.options.dirCache) {
            this.replyError(unique, ENOSYS);
            return;
          }
          this.answer(undefined, vfs.opendir(nodeid, this.ctx()), this.replyOpenedDir, 0, this.dropDir);
          return;
        case Op.READDIR:
        case Op.READDIRPLUS:
          this.readdir(nodeid, opcode === Op.READDIRPLUS);
          return;
        case Op.RELEASEDIR:
          this.answer(undefined, vfs.releasedir(req.fh()), this.replyEmpty);
          return;
        case Op.MKDIR: {
          const { mode, name } = req.mkdir();
          this.answer(undefined, vfs.mkdir(nodeid, name, mode, this.ctx()), this.replyEntry, 0, this.dropEntry);
          return;
        }
        case Op.MKNOD: {
          const { mode, rdev, name } = req.mknod();
          const r = vfs.mknod(nodeid, name, mode, rdev, this.ctx());
          this.answer(undefined, r, this.replyEntry, 0, this.dropEntry);
          return;
        }
        case Op.SYMLINK: {
          const { name, target } = req.symlink();
          const r = vfs.symlink(nodeid, name, target, this.ctx());
          this.answer(undefined, r, this.replyEntry, 0, this.dropEntry);
          return;
        }
        case Op.LINK: {
          const { oldIno, name } = req.link();
          this.answer(undefined, vfs.link(oldIno, nodeid, name, this.ctx()), this.replyEntry, 0, this.dropEntry);
          return;
        }
        case Op.UNLINK:
          this.answer(undefined, vfs.unlink(nodeid, req.name(), this.ctx()), this.replyEmpty);
          return;
        case Op.RMDIR:
          this.answer(undefined, vfs.rmdir(nodeid, req.name(), this.ctx()), this.replyEmpty);
          return;
        case Op.RENAME:
        case Op.RENAME2: {
          const { newDir, flags, oldName, newName } = req.rename(opcode === Op.RENAME2);
          const r = vfs.rename(nodeid, oldName, newDir, newName, flags, this.ctx());
          this.answer(undefined, r, this.replyEmpty);
          return;
        }
        case Op.CREATE: {
          const { flags, mode, name } = req.create();
          const r = vfs.create(nodeid, name, mode, flags, this.ctx());
          this.answer(undefined, r, this.replyCreated, 0, this.dropCreated);
          return;
        }
        case Op.STATFS:
          this.answer(undefined, vfs.statfs(nodeid, this.ctx()), this.replyStatfs);
          return;
        case Op.ACCESS:
          this.answer(undefined, vfs.access(nodeid, req.accessMask(), this.ctx()), this.replyEmpty);
          return;
        case Op.POLL:
          this.poll();
          return;
        case Op.INTERRUPT:
          this.interrupt(req.interruptedUnique());
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
      // An op that threw, a malformed request, or a result we cannot encode (a bug upstream, EIO): the caller still
      // gets an answer, and the loop goes on. FORGETs have no reply.
      if (opcode !== Op.FORGET && opcode !== Op.BATCH_FORGET) this.replyError(unique, errnoOf(err));
    }
  }

  // ---- request context and the one sync-or-park answer ----

  /** The current request's context (a new object: an op may keep its `cred`, as an open file does). */
  private ctx(): RequestContext {
    const req = this.req;
    return new RequestContext(req.uid(), req.gid(), req.pid(), this.groups, false);
  }

  /** The context of a request INTERRUPT may abort (it has a `signal`). */
  private abortableCtx(): RequestContext {
    const req = this.req;
    return new RequestContext(req.uid(), req.gid(), req.pid(), this.groups, true);
  }

  /** Where an I/O request reads or writes: stream files have no position, whatever offset the kernel sends. */
  private fileOffset(fh: number): number {
    return ((this.files.get(fh) ?? 0) & FILE_STREAM) !== 0 ? 0 : this.req.offset();
  }

  /**
   * Answer the current request from its op's result: at once when the op answered synchronously — a plain call of
   * a reply method, no closure made — else park the request until the Promise settles. `ctx` is the request's
   * context when INTERRUPT may abort it; `drop` releases what a late result holds when nobody can receive it.
   * Called only while dispatching (it reads the current request's unique).
   */
  private answer<T>(
    ctx: RequestContext | undefined,
    result: MaybePromise<T>,
    reply: Reply<T>,
    arg = 0,
    drop?: Drop<T>,
  ): void {
    const { unique, opcode } = this.req;
    if (!isPromise(result)) {
      reply.call(this, unique, result, arg); // a throw is dispatch's: EIO
      return;
    }
    const parked: Parked = { opcode, ctx };
    this.parked.set(unique, parked);
    this.stats[STAT_PARKED]++;
    this.needYield = true;
    result.then(
      (value) => {
        if (this.parked.get(unique) !== parked) {
          drop?.call(this, value); // interrupted and already answered with EINTR
          return;
        }
        this.parked.delete(unique);
        try {
          reply.call(this, unique, value, arg);
        } catch {
          this.replyError(unique, EIO); // a result we cannot encode: a bug upstream, still an answer
        }
      },
      (err: unknown) => {
        if (this.parked.get(unique) !== parked) return;
        this.parked.delete(unique);
        this.replyError(unique, errnoOf(err));
      },
    );
  }

  // ---- operations with more to them than a call and a reply ----

  private init(): void {
    const unique = this.req.unique;
    const { major, minor, maxReadahead, flags: kernelFlags } = this.req.init();
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

  private lookup(parent: number, name: string): void {
    if (parent === ROOT_INO && name === WAKE_NAME) {
      this.replyError(this.req.unique, ENOENT);
      this.stats[STAT_WAKES]++;
      this.needYield = true;
      this.hooks.woken();
      return;
    }
    this.answer(undefined, this.vfs.lookup(parent, name, this.ctx()), this.replyEntry, 0, this.dropEntry);
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

  private openFlags(r: OpenResult): number {
    let f = 0;
    if (r.directIo || r.stream) f |= FOPEN_DIRECT_IO;
    else f |= FOPEN_KEEP_CACHE; // content is stable until kernfs says otherwise (INVAL_INODE)
    if (r.stream) f |= FOPEN_STREAM | FOPEN_NONSEEKABLE;
    return f;
  }

  private readdir(ino: number, plus: boolean): void {
    const req = this.req;
    const fh = req.fh();
    const cookie = req.offset();
    const size = Math.min(req.size(), this.outBuf.length - OUT_HEADER_SIZE);
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
    const ctx = this.ctx();
    const list = (dh: number): MaybePromise<Listing> => {
      const r = this.vfs.readdir(dh, cookie, fill, ctx);
      // READDIRPLUS: every taken name but `.`/`..` becomes a counted lookup, as if looked up one by one.
      const listing = (): MaybePromise<Listing> =>
        plus ? this.lookupAll(ino, taken, ctx) : { taken, entries: undefined };
      return isPromise(r) ? r.then(listing) : listing();
    };
    let result: MaybePromise<Listing>;
    if (!this.options.dirCache) result = list(fh);
    else {
      // No OPENDIR was sent (zero-message opendir): a handle for this request only.
      const opened = openForListing(this.vfs, ino, ctx);
      const run = (dh: number): MaybePromise<Listing> => {
        let r: MaybePromise<Listing>;
        try {
          r = list(dh);
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
      result = isPromise(opened) ? opened.then(run) : run(opened);
    }
    this.answer(undefined, result, this.replyDir, 0, this.dropListing);
  }

  /** READDIRPLUS's entries, index-aligned with `taken`; undefined for `.`/`..` and names that vanished. */
  private lookupAll(dir: number, taken: readonly Taken[], ctx: OpContext): MaybePromise<Listing> {
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
    const listing: Listing = { taken, entries: out };
    return pending ? Promise.all(pending).then(() => listing) : listing;
  }

  private poll(): void {
    const unique = this.req.unique;
    const { fh, khLo, khHi, flags } = this.req.poll();
    // Never ENOSYS: the kernel would stop sending POLL for every file of the mount, pollable ones included.
    const bits = this.files.get(fh);
    if (bits !== undefined && (bits & FILE_POLLABLE) === 0) {
      this.replyPoll(unique, DEFAULT_POLLMASK);
      return;
    }
    const wake = flags & FUSE_POLL_SCHEDULE_NOTIFY ? () => this.notifyPoll(khLo, khHi) : undefined;
    const ctx = this.abortableCtx();
    let r: MaybePromise<number>;
    try {
      r = this.vfs.poll(fh, wake, ctx);
    } catch (err) {
      if (errnoOf(err) !== ENOSYS) throw err;
      r = DEFAULT_POLLMASK; // a file without poll: always ready, as the kernel says of such files
    }
    if (isPromise(r)) r = r.catch((err) => (errnoOf(err) === ENOSYS ? DEFAULT_POLLMASK : Promise.reject(err)));
    this.answer(ctx, r, this.replyPoll);
  }

  private interrupt(target: number): void {
    const p = this.parked.get(target);
    if (!p) return; // already answered, or never parked: the kernel's answer comes from that reply
    this.parked.delete(target);
    p.ctx?.abort();
    this.replyError(target, EINTR);
  }

  // ---- replies: (unique, value, arg) methods `answer` calls, and what a result nobody receives gives back ----

  /** Write header + `len` body bytes already in outBuf. False if the kernel no longer waits for this reply. */
  private send(unique: number, error: number, len: number): boolean {
    return this.sendFrom(this.outBuf, this.outView, unique, error, len);
  }

  /** Write header + `len` body bytes already in `buf` (after the header's room) as one message. */
  private sendFrom(buf: Buffer, view: DataView, unique: number, error: number, len: number): boolean {
    const total = OUT_HEADER_SIZE + len;
    view.setUint32(0, total, true);
    view.setInt32(4, -error, true);
    putU64(view, 8, unique);
    try {
      writeSync(this.io.writeFd, buf, 0, total);
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

  private replyEntry(unique: number, e: Entry): void {
    putEntry(this.outView, OUT_HEADER_SIZE, e);
    this.countLookup(e);
    if (!this.send(unique, 0, ENTRY_OUT_SIZE)) this.dropEntry(e);
  }

  /** A counted lookup nobody received. */
  private dropEntry(e: Entry): void {
    this.forget(e.ino, 1);
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

  private replyOpened(unique: number, r: OpenResult): void {
    this.files.set(r.fh, fileBits(r));
    if (!this.replyOpen(unique, r.fh, this.openFlags(r))) {
      this.files.delete(r.fh);
      this.vfs.release(r.fh);
    }
  }

  private dropOpened(r: OpenResult): void {
    this.vfs.release(r.fh);
  }

  private replyOpenedDir(unique: number, dh: number): void {
    if (!this.replyOpen(unique, dh, 0)) this.vfs.releasedir(dh);
  }

  private dropDir(dh: number): void {
    this.vfs.releasedir(dh);
  }

  /** False when nobody got the handle (the opener was interrupted): the kernel will never release it, so we must. */
  private replyOpen(unique: number, fh: number, openFlags: number): boolean {
    const o = this.outView;
    putU64(o, OUT_HEADER_SIZE, fh);
    o.setUint32(OUT_HEADER_SIZE + 8, openFlags, true);
    o.setUint32(OUT_HEADER_SIZE + 12, 0, true);
    return this.send(unique, 0, OPEN_OUT_SIZE);
  }

  private replyCreated(unique: number, r: Created): void {
    this.files.set(r.open.fh, fileBits(r.open));
    const o = this.outView;
    const b = OUT_HEADER_SIZE;
    putEntry(o, b, r.entry);
    putU64(o, b + ENTRY_OUT_SIZE, r.open.fh);
    o.setUint32(b + ENTRY_OUT_SIZE + 8, this.openFlags(r.open), true);
    o.setUint32(b + ENTRY_OUT_SIZE + 12, 0, true);
    this.countLookup(r.entry);
    if (!this.send(unique, 0, ENTRY_OUT_SIZE + OPEN_OUT_SIZE)) {
      this.dropEntry(r.entry);
      this.files.delete(r.open.fh);
      this.vfs.release(r.open.fh);
    }
  }

  private dropCreated(r: Created): void {
    this.vfs.release(r.open.fh);
    this.vfs.forget(r.entry.ino, 1);
  }

  private replyStatfs(unique: number, s: StatFs): void {
    putStatFs(this.outView, OUT_HEADER_SIZE, s);
    this.send(unique, 0, STATFS_OUT_SIZE);
  }

  private replyString(unique: number, s: string): void {
    this.replyBytes(unique, Buffer.from(s, 'utf8'));
  }

  private replyWritten(unique: number, written: number): void {
    this.outView.setUint32(OUT_HEADER_SIZE, written, true);
    this.outView.setUint32(OUT_HEADER_SIZE + 4, 0, true);
    this.send(unique, 0, 8);
  }

  private replyPoll(unique: number, revents: number): void {
    this.outView.setUint32(OUT_HEADER_SIZE, revents, true);
    this.outView.setUint32(OUT_HEADER_SIZE + 4, 0, true);
    this.send(unique, 0, 8);
  }

  /** READ: the data, never more than the `size` asked for; sent from where it is when the op used its loan. */
  private replyRead(unique: number, data: Uint8Array, size: number): void {
    const lent = this.lent;
    if (lent?.holds(data)) {
      this.sendFrom(lent.bytes, lent.view, unique, 0, Math.min(data.byteLength, size));
      return;
    }
    this.replyBytes(unique, data.byteLength > size ? data.subarray(0, size) : data);
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

  private replyDir(unique: number, { taken, entries }: Listing): void {
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
      for (const e of entries) if (e) this.dropEntry(e);
    }
  }

  /** READDIRPLUS entries nobody received. */
  private dropListing({ entries }: Listing): void {
    if (entries) for (const e of entries) if (e) this.vfs.forget(e.ino, 1);
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
