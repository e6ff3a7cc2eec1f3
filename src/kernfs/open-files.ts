/**
 * Open files and file-op dispatch: open/read/write/flush/release/poll of the VFS face. Each op runs holding an active
 * reference on its node (so removal waits for it) and counts as in flight on its open, so `release` runs exactly once
 * per successful open, after every op on it has settled: at the last close, or at removal, whichever comes first.
 */
import type { ActiveRefs } from './active.js';
import { constantContent } from './constant-content.js';
import { FsError, fail } from './errors.js';
import type { HandleNumbers } from './handles.js';
import type { InodeTable } from './inodes.js';
import { isPromise, then } from './maybe-promise.js';
import { O_ACCMODE, O_RDONLY, O_WRONLY, openAccessMask } from './mode.js';
import { type AnyFile, DirNode, isAncestorOrSelf, type KernfsNode, SymlinkNode } from './node.js';
import { OpenFile } from './open-file.js';
import { canRead } from './ops.js';
import type { Permissions } from './permissions.js';
import type { PollWaiters } from './poll-waiters.js';
import {
  type MaybePromise,
  type OpContext,
  type OpenResult,
  POLLERR,
  POLLIN,
  POLLOUT,
  POLLPRI,
  POLLRDNORM,
} from './vfs.js';

/** What poll answers for a file whose node is gone, like Linux kernfs (DEFAULT_POLLMASK | EPOLLERR | EPOLLPRI). */
const POLLWRNORM = 0x100;
const STALE_POLL = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM | POLLERR | POLLPRI;

/** Strings up to this long are copied by a loop when ASCII (see toBytes). */
const SHORT_STRING = 64;

/**
 * Content as bytes. Short ASCII strings — what most control files show: "0\n", an id — are copied by a loop into a
 * small array V8 keeps on its heap; others go through Buffer.from (a slice of Node's pool below 4 KiB).
 * TextEncoder.encode gives every call its own off-heap memory, which costs several times more (1–2 µs a call
 * measured here, against ~0.2 µs for the loop), once per read of every generated file.
 */
function toBytes(data: string | Uint8Array): Uint8Array {
  if (typeof data !== 'string') return data;
  const n = data.length;
  if (n > SHORT_STRING) return Buffer.from(data, 'utf8');
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = data.charCodeAt(i);
    if (c > 0x7f) return Buffer.from(data, 'utf8');
    out[i] = c;
  }
  return out;
}

export class OpenFiles {
  private readonly byHandle = new Map<number, OpenFile>();

  constructor(
    private readonly inodes: InodeTable,
    private readonly permissions: Permissions,
    private readonly active: ActiveRefs,
    private readonly pollers: PollWaiters,
    private readonly handles: HandleNumbers,
  ) {}

  open(ino: number, flags: number, ctx: OpContext): MaybePromise<OpenResult> {
    const node = this.inodes.nodeOf(ino);
    if (node instanceof DirNode) fail('EISDIR');
    if (node instanceof SymlinkNode) fail('ELOOP');
    const fnode = node as AnyFile;
    if (fnode.removed) fail('ENODEV');
    this.permissions.check(fnode, ctx.cred, openAccessMask(flags));
    const ops = fnode.ops;
    const acc = flags & O_ACCMODE;
    if (acc !== O_WRONLY && !canRead(ops)) fail('EACCES');
    if (acc !== O_RDONLY && !ops.write) fail('EACCES');

    const fh = this.handles.take();
    const file = new OpenFile(fh, fnode, flags, ctx.cred, this.pollers.woken);
    // Constant content may stay in the transport's cache across opens; anything generated is read fresh every time.
    const directIo = ops.constant === undefined || ops.stream === true;
    const result: OpenResult = { fh, directIo, stream: ops.stream === true, pollable: !!ops.poll };
    const openOp = ops.open;
    if (!openOp) {
      this.byHandle.set(fh, file);
      return result;
    }
    // A failed open is never released: mark it before the in-flight count drops (removal may be waiting on it).
    const failed = (err: unknown): never => {
      file.released = true;
      this.byHandle.delete(fh);
      throw err;
    };
    this.byHandle.set(fh, file);
    let r: MaybePromise<void>;
    try {
      // Not raced against ctx.signal: an open that succeeds after the caller left would leak a handle.
      r = this.run(file, undefined, () => {
        const v = openOp.call(ops, file, ctx);
        return isPromise(v) ? Promise.resolve(v).catch(failed) : v;
      });
    } catch (err) {
      return failed(err);
    }
    return then(r, () => {
      if (file.stale) {
        // Removed while opening: the caller gets ENODEV (and will never close it); the removal releases it.
        this.byHandle.delete(fh);
        fail('ENODEV');
      }
      return result;
    });
  }

  read(fh: number, offset: number, size: number, ctx: OpContext): MaybePromise<Uint8Array> {
    const file = this.live(fh);
    if ((file.flags & O_ACCMODE) === O_WRONLY) fail('EBADF');
    if (!(offset >= 0) || !(size >= 0)) fail('EINVAL');
    const ops = file.node.ops;
    const constant = constantContent(file.node);
    if (constant !== null) return constant.subarray(offset, offset + size);
    const show = ops.show;
    if (show) {
      if (offset !== 0 && file.content !== null) return file.content.subarray(offset, offset + size);
      return then(
        this.run(file, ctx, () => show.call(ops, file, ctx)),
        (content) => {
          const bytes = toBytes(content);
          file.content = bytes;
          return bytes.subarray(offset, offset + size);
        },
      );
    }
    const read = ops.read!;
    return then(
      this.run(file, ctx, () => read.call(ops, file, offset, size, ctx)),
      (data) => {
        const bytes = toBytes(data);
        return bytes.length > size ? bytes.subarray(0, size) : bytes;
      },
    );
  }

  write(fh: number, offset: number, data: Uint8Array, ctx: OpContext): MaybePromise<number> {
    const file = this.live(fh);
    if ((file.flags & O_ACCMODE) === O_RDONLY) fail('EBADF');
    if (!(offset >= 0)) fail('EINVAL');
    const ops = file.node.ops;
    const write = ops.write!;
    if (ops.atomicWriteLen !== undefined && data.length > ops.atomicWriteLen) fail('E2BIG');
    const length = data.length;
    return then(
      this.run(file, ctx, () => write.call(ops, file, data, offset, ctx)),
      (consumed) => {
        if (!ops.shortWrites || consumed === undefined) return length;
        const n = Math.trunc(Number(consumed));
        return n >= 0 && n <= length ? n : length;
      },
    );
  }

  flush(fh: number): void {
    if (!this.byHandle.has(fh)) fail('EBADF');
  }

  /** The kernel closed `fh`: release it now, or when its last op in flight settles. */
  release(fh: number): void {
    const file = this.byHandle.get(fh);
    if (!file) return;
    this.byHandle.delete(fh);
    this.pollers.remove(file);
    file.pollWake = null;
    if (file.stale) return; // its removal releases it, after draining
    file.ending = true;
    file.abort();
    if (file.inflight === 0) this.releaseOnce(file);
  }

  poll(fh: number, wake: (() => void) | undefined, ctx: OpContext): number {
    const file = this.byHandle.get(fh);
    if (!file) fail('EBADF');
    if (file.stale || file.node.removed) return STALE_POLL;
    const ops = file.node.ops;
    const poll = ops.poll;
    if (!poll) fail('ENOSYS');
    if (wake) {
      file.pollWake = wake;
      this.pollers.add(file);
    }
    return this.run(file, undefined, () => poll.call(ops, file, ctx)) as number;
  }

  /**
   * `top` was removed: end every open file under it (later ops answer ENODEV, signals abort, pollers wake). Returns
   * them, for the removal to release once its drain completes.
   */
  endWithin(top: KernfsNode): OpenFile[] {
    const ended: OpenFile[] = [];
    for (const file of this.byHandle.values()) {
      if (!isAncestorOrSelf(top, file.node)) continue;
      file.stale = true;
      file.ending = true;
      file.abort();
      ended.push(file);
      file.wake();
    }
    return ended;
  }

  /** Call the `release` op, unless it already ran for this open. */
  releaseOnce(file: OpenFile): void {
    if (file.released) return;
    file.released = true;
    this.pollers.remove(file);
    file.pollWake = null;
    const ops = file.node.ops;
    try {
      ops.release?.(file);
    } catch {
      // release has no caller to report to (close(2) already returned).
    }
  }

  /** Nodes of open files (they may be referred to after removal). */
  *nodes(): IterableIterator<KernfsNode> {
    for (const file of this.byHandle.values()) yield file.node;
  }

  private live(fh: number): OpenFile {
    const file = this.byHandle.get(fh);
    if (!file) fail('EBADF');
    if (file.stale || file.node.removed) fail('ENODEV');
    return file;
  }

  /**
   * Run a file op holding an active reference on its node and open. A parked op may be answered with EINTR when
   * `ctx.signal` aborts; the reference is still held until the op's Promise settles, so removal waits for it.
   */
  private run<T>(file: OpenFile, ctx: OpContext | undefined, op: () => MaybePromise<T>): MaybePromise<T> {
    const node = file.node;
    this.active.enter(node);
    file.inflight++;
    let result: MaybePromise<T>;
    try {
      result = op();
    } catch (err) {
      this.leave(file, node);
      throw err;
    }
    if (!isPromise(result)) {
      this.leave(file, node);
      return result;
    }
    const settled = Promise.resolve(result).finally(() => this.leave(file, node));
    // The request's signal is only looked at when the op parks: a transport may create it on first use.
    const signal = ctx?.signal;
    if (!signal) return settled;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(new FsError('EINTR'));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      settled.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  private leave(file: OpenFile, node: KernfsNode): void {
    file.inflight--;
    const idle = this.active.leave(node);
    // A closed open releases here, after its last op; a removed one is released by its removal's drain.
    if (file.ending && !file.stale && file.inflight === 0) this.releaseOnce(file);
    if (idle) this.active.settleDrains();
  }
}
