/**
 * The socket transport's request loop, run in the thread that hosts the tree (beside the FUSE loop, or alone): it
 * decodes each request body from the socket thread, calls the `Vfs`, and sends the reply back. Everything a file does
 * is the tree's: this file only checks that a connection uses what it owns (its inodes, its handles) and releases
 * all of it, once, when the connection ends.
 */
import type { MessagePort } from 'node:worker_threads';
import { errnoOf, FsError } from '../kernfs/errors.js';
import { O_ACCMODE, O_RDONLY, O_TRUNC } from '../kernfs/mode.js';
import {
  type AttrChanges,
  type Credentials,
  type DirEntry,
  type Entry,
  isPromise,
  type MaybePromise,
  type OpContext,
  type OpenResult,
  ROOT_INO,
  type Vfs,
  type VfsChange,
} from '../kernfs/vfs.js';
import type { FromDispatcher, ToDispatcher } from './messages.js';
import {
  BadFrame,
  CHANGE_ENTRY,
  CHANGE_INODE,
  MIN_PROTOCOL_VERSION,
  NOTIFY_CHANGE,
  NOTIFY_ID,
  NOTIFY_POLL,
  Op,
  PROTOCOL_VERSION,
  Reader,
  SetattrField,
  Writer,
} from './protocol.js';
import { type LentFrame, MAX_READ, ReplySlots } from './reply-slots.js';

/** Largest file READ_FILE returns in one reply; bigger files are read with OPEN_PATH + READ. */
const READ_FILE_CAP = 8 * 1024 * 1024;
const READ_CHUNK = 128 * 1024;
/** Largest file whose bytes LISTTREE carries. */
const TREE_CONTENT_MAX = 64 * 1024;

type Result = (w: Writer) => void;
const NOTHING: Result = () => {};

/** One client: what it holds, so that it uses only that and gives all of it back when it goes. */
class Conn {
  /** The protocol version agreed at HELLO; 0 before it. */
  version = 0;
  gone = false;
  readonly lookups = new Map<number, number>();
  readonly files = new Map<number, number>(); // fh → inode whose lookup the handle holds (0: none)
  readonly dirs = new Set<number>();
  readonly inflight = new Set<AbortController>();
  /** Handles with a parked READ → the READs that came after it, run in order once it settles. */
  readonly readsBehind = new Map<number, (() => void)[]>();
  constructor(readonly id: number) {}
}

export class SocketDispatcher {
  private readonly conns = new Map<number, Conn>();
  private readonly ctx: OpContext;
  /** Replies made during one drain go out in one message per connection. */
  private outbox = new Map<number, (Uint8Array | LentFrame)[]>();
  /** Memory READs render their replies in, shared with the socket thread; made at the first READ. */
  private slots: ReplySlots | undefined;
  private flushing = false;
  /** Connections that sent WATCH: told of changes to what they hold (they cache, like a kernel). */
  private readonly watchers = new Set<Conn>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly vfs: Vfs,
    private readonly port: MessagePort,
    cred: Credentials,
  ) {
    this.ctx = { cred };
  }

  /** Handles one message from the socket thread. */
  handle(m: ToDispatcher): void {
    if (m.t === 'gone') {
      const conn = this.conns.get(m.c);
      if (conn) this.release(conn);
      return;
    }
    let conn = this.conns.get(m.c);
    if (!conn) {
      conn = new Conn(m.c);
      this.conns.set(m.c, conn);
    }
    for (const body of m.bodies) {
      if (conn.gone) break;
      try {
        this.request(conn, body);
      } catch (err) {
        // Only a frame we cannot parse gets here: that connection ends, nothing else does — after what it was
        // answered so far (HELLO's EPROTO says why).
        this.flush();
        this.send({ t: 'close', c: conn.id, why: (err as Error).message });
        this.release(conn);
      }
    }
    this.flush();
  }

  /** A change the tree reports, to each watching connection that holds what changed (or its parent). */
  private changed(change: VfsChange): void {
    const held = change.type === 'inode' ? change.ino : change.parent;
    let frame: Uint8Array | undefined;
    for (const conn of this.watchers) {
      if (held !== ROOT_INO && !conn.lookups.has(held)) continue;
      if (!frame) {
        // One frame for every watcher: the queues only hold it until the next flush posts it (a copy per port).
        const w = new Writer().u32(NOTIFY_ID).i32(0).u8(NOTIFY_CHANGE);
        if (change.type === 'inode') w.u8(CHANGE_INODE).f64(change.ino);
        else w.u8(CHANGE_ENTRY).f64(change.parent).str(change.name);
        frame = w.frame();
      }
      this.queue(conn, frame);
    }
  }

  /** Every connection's holdings, released (the tree's thread is stopping). */
  closeAll(): void {
    for (const conn of [...this.conns.values()]) this.release(conn);
  }

  private send(m: FromDispatcher): void {
    this.port.postMessage(m);
  }

  private queue(conn: Conn, frame: Uint8Array | LentFrame): void {
    if (conn.gone) {
      if (!(frame instanceof Uint8Array)) this.slots?.free(frame.slot);
      return;
    }
    const list = this.outbox.get(conn.id);
    if (list) list.push(frame);
    else this.outbox.set(conn.id, [frame]);
    if (!this.flushing) {
      // A reply made later (a settled Promise) goes out at the end of the current microtask run.
      this.flushing = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    this.flushing = false;
    if (this.outbox.size === 0) return;
    const out = this.outbox;
    this.outbox = new Map();
    for (const [c, frames] of out) this.send({ t: 'out', c, frames });
  }

  private reply(conn: Conn, id: number, result: Result): void {
    const w = new Writer().u32(id).i32(0);
    result(w);
    this.queue(conn, w.frame());
  }

  private fail(conn: Conn, id: number, err: unknown): void {
    this.queue(conn, new Writer().u32(id).i32(errnoOf(err)).frame());
  }

  /** Answers now, or when the Promise settles (the request is parked; others go on meanwhile). */
  private answer<T>(conn: Conn, id: number, value: () => MaybePromise<T>, encode: (v: T) => Result): void {
    let v: MaybePromise<T>;
    try {
      v = value();
    } catch (err) {
      this.fail(conn, id, err);
      return;
    }
    if (!isPromise(v)) {
      this.reply(conn, id, encode(v));
      return;
    }
    v.then(
      (r) => {
        if (!conn.gone) this.reply(conn, id, encode(r));
      },
      (err) => {
        if (!conn.gone) this.fail(conn, id, err);
      },
    );
  }

  /** `answer` for an op that may park: its context's signal aborts if the connection goes first. */
  private parked<T>(
    conn: Conn,
    id: number,
    value: (ctx: OpContext) => MaybePromise<T>,
    encode: (v: T) => Result,
  ): void {
    const p = this.parkable(conn);
    this.answer(
      conn,
      id,
      () => {
        let v: MaybePromise<T>;
        try {
          v = value(p.ctx);
        } finally {
          p.done();
        }
        if (isPromise(v)) {
          conn.inflight.add(p.ac);
          v.then(p.done, p.done);
        }
        return v;
      },
      encode,
    );
  }

  /** A context whose signal aborts when the connection goes: for ops that may park. */
  private parkable(conn: Conn): { ctx: OpContext; ac: AbortController; done: () => void } {
    const ac = new AbortController();
    conn.inflight.add(ac);
    return { ctx: { cred: this.ctx.cred, signal: ac.signal }, ac, done: () => conn.inflight.delete(ac) };
  }

  private request(conn: Conn, body: Uint8Array): void {
    const r = new Reader(body);
    const id = r.u32();
    const op = r.u8();
    if (id === NOTIFY_ID) throw new BadFrame('request id 0');
    if (conn.version === 0) {
      if (op !== Op.HELLO) throw new BadFrame('the first request must be HELLO');
      // The client's newest version; both then speak the lower of its and ours.
      const version = Math.min(r.u32(), PROTOCOL_VERSION);
      if (version < MIN_PROTOCOL_VERSION) {
        this.fail(conn, id, new FsError('EPROTO'));
        throw new BadFrame(
          `protocol version ${version} (this server speaks ${MIN_PROTOCOL_VERSION} to ${PROTOCOL_VERSION})`,
        );
      }
      conn.version = version;
      this.reply(conn, id, (w) => w.u32(version));
      return;
    }
    try {
      this.operation(conn, id, op, r);
    } catch (err) {
      if (err instanceof BadFrame) throw err;
      this.fail(conn, id, err); // e.g. EBADF for a handle this connection does not hold
    }
  }

  private operation(conn: Conn, id: number, op: number, r: Reader): void {
    const vfs = this.vfs;
    const ctx = this.ctx;
    switch (op) {
      case Op.LOOKUP: {
        const parent = this.ino(conn, r);
        const name = r.str();
        this.entryReply(conn, id, () => vfs.lookup(parent, name, ctx));
        return;
      }
      case Op.FORGET: {
        this.forget(conn, r.num(), r.num());
        this.reply(conn, id, NOTHING);
        return;
      }
      case Op.FORGETS: {
        const count = r.u32();
        for (let i = 0; i < count; i++) this.forget(conn, r.num(), r.num());
        this.reply(conn, id, NOTHING);
        return;
      }
      case Op.GETATTR: {
        const ino = this.ino(conn, r);
        this.answer(
          conn,
          id,
          () => vfs.getattr(ino, ctx),
          (a) => (w) => w.attr(a),
        );
        return;
      }
      case Op.SETATTR: {
        const ino = this.ino(conn, r);
        const mask = r.u16();
        const mode = r.u32();
        const uid = r.u32();
        const gid = r.u32();
        const size = r.f64();
        const atime = r.f64();
        const mtime = r.f64();
        const fh = r.f64();
        const c: AttrChanges = {};
        if (mask & SetattrField.MODE) c.mode = mode;
        if (mask & SetattrField.UID) c.uid = uid;
        if (mask & SetattrField.GID) c.gid = gid;
        if (mask & SetattrField.SIZE) c.size = size;
        if (mask & SetattrField.ATIME) c.atimeMs = mask & SetattrField.ATIME_NOW ? 'now' : atime;
        if (mask & SetattrField.MTIME) c.mtimeMs = mask & SetattrField.MTIME_NOW ? 'now' : mtime;
        const handle = mask & SetattrField.FH ? this.fh(conn, fh) : undefined;
        this.answer(
          conn,
          id,
          () => vfs.setattr(ino, c, ctx, handle),
          (a) => (w) => w.attr(a),
        );
        return;
      }
      case Op.ACCESS: {
        const ino = this.ino(conn, r);
        const mask = r.u32();
        this.answer(
          conn,
          id,
          () => vfs.access(ino, mask, ctx),
          () => NOTHING,
        );
        return;
      }
      case Op.READLINK: {
        const ino = this.ino(conn, r);
        this.answer(
          conn,
          id,
          () => vfs.readlink(ino, ctx),
          (s) => (w) => w.str(s),
        );
        return;
      }
      case Op.OPEN: {
        const ino = this.ino(conn, r);
        const flags = r.u32();
        this.openReply(conn, id, 0, (c) => vfs.open(ino, flags, c));
        return;
      }
      case Op.OPEN_READ: {
        if (conn.version < 3) throw new BadFrame('OPEN_READ is a version 3 op');
        const ino = this.ino(conn, r);
        const flags = r.u32();
        const size = Math.min(r.u32(), READ_CHUNK);
        this.openReply(
          conn,
          id,
          0,
          (c) => vfs.open(ino, flags, c),
          undefined,
          (o, c) =>
            (flags & (O_ACCMODE | O_TRUNC)) === O_RDONLY && !o.stream && !o.pollable
              ? vfs.read(o.fh, 0, size, c)
              : undefined,
        );
        return;
      }
      case Op.READ: {
        const fh = this.fh(conn, r.num());
        const offset = r.num();
        const size = Math.min(r.u32(), MAX_READ);
        this.read(conn, id, fh, offset, size);
        return;
      }
      case Op.WRITE: {
        const fh = this.fh(conn, r.num());
        const offset = r.num();
        const data = r.bytes();
        this.parked(
          conn,
          id,
          (c) => vfs.write(fh, offset, data, c),
          (n) => (w) => w.u32(n),
        );
        return;
      }
      case Op.FLUSH: {
        const fh = this.fh(conn, r.num());
        this.answer(
          conn,
          id,
          () => vfs.flush(fh, ctx),
          () => NOTHING,
        );
        return;
      }
      case Op.RELEASE: {
        const fh = this.fh(conn, r.num());
        this.releaseFile(conn, fh);
        this.reply(conn, id, NOTHING);
        return;
      }
      case Op.POLL: {
        const fh = this.fh(conn, r.num());
        const arm = r.u8() !== 0;
        const wake = arm
          ? () => {
              if (conn.files.has(fh))
                this.queue(conn, new Writer().u32(NOTIFY_ID).i32(0).u8(NOTIFY_POLL).f64(fh).frame());
            }
          : undefined;
        this.answer(
          conn,
          id,
          () => vfs.poll(fh, wake, ctx),
          (mask) => (w) => w.u32(mask),
        );
        return;
      }
      case Op.OPENDIR: {
        const ino = this.ino(conn, r);
        this.answer(
          conn,
          id,
          () => vfs.opendir(ino, ctx),
          (dh) => {
            if (conn.gone) vfs.releasedir(dh);
            else conn.dirs.add(dh);
            return (w) => w.f64(dh);
          },
        );
        return;
      }
      case Op.READDIR: {
        const dh = this.dh(conn, r.num());
        const cookie = r.num();
        const batch = new Batch(r.u32());
        this.answer(
          conn,
          id,
          () => vfs.readdir(dh, cookie, batch.fill, ctx),
          () => (w) => {
            w.u32(batch.list.length);
            for (const e of batch.list) w.dirent(e);
          },
        );
        return;
      }
      case Op.RELEASEDIR: {
        const dh = this.dh(conn, r.num());
        conn.dirs.delete(dh);
        vfs.releasedir(dh);
        this.reply(conn, id, NOTHING);
        return;
      }
      case Op.MKDIR: {
        const parent = this.ino(conn, r);
        const name = r.str();
        const mode = r.u32();
        this.entryReply(conn, id, () => vfs.mkdir(parent, name, mode, ctx));
        return;
      }
      case Op.RMDIR: {
        const parent = this.ino(conn, r);
        const name = r.str();
        this.answer(
          conn,
          id,
          () => vfs.rmdir(parent, name, ctx),
          () => NOTHING,
        );
        return;
      }
      case Op.UNLINK: {
        const parent = this.ino(conn, r);
        const name = r.str();
        this.answer(
          conn,
          id,
          () => vfs.unlink(parent, name, ctx),
          () => NOTHING,
        );
        return;
      }
      case Op.RENAME: {
        const parent = this.ino(conn, r);
        const name = r.str();
        const newParent = this.ino(conn, r);
        const newName = r.str();
        const flags = r.u32();
        this.answer(
          conn,
          id,
          () => vfs.rename(parent, name, newParent, newName, flags, ctx),
          () => NOTHING,
        );
        return;
      }
      case Op.CREATE: {
        const parent = this.ino(conn, r);
        const name = r.str();
        const mode = r.u32();
        const flags = r.u32();
        this.answer(
          conn,
          id,
          () => vfs.create(parent, name, mode, flags, ctx),
          (c) => {
            this.hold(conn, c.entry);
            this.holdFile(conn, c.open, 0);
            return (w) => w.entry(c.entry).open(c.open);
          },
        );
        return;
      }
      case Op.MKNOD: {
        const parent = this.ino(conn, r);
        const name = r.str();
        const mode = r.u32();
        const rdev = r.u32();
        this.entryReply(conn, id, () => vfs.mknod(parent, name, mode, rdev, ctx));
        return;
      }
      case Op.SYMLINK: {
        const parent = this.ino(conn, r);
        const name = r.str();
        const target = r.str();
        this.entryReply(conn, id, () => vfs.symlink(parent, name, target, ctx));
        return;
      }
      case Op.LINK: {
        const ino = this.ino(conn, r);
        const newParent = this.ino(conn, r);
        const newName = r.str();
        this.entryReply(conn, id, () => vfs.link(ino, newParent, newName, ctx));
        return;
      }
      case Op.STATFS: {
        const ino = this.ino(conn, r);
        this.answer(
          conn,
          id,
          () => vfs.statfs(ino, ctx),
          (s) => (w) => w.statfs(s),
        );
        return;
      }
      case Op.WATCH: {
        this.watchers.add(conn);
        this.unsubscribe ??= vfs.onChange((change) => this.changed(change));
        this.reply(conn, id, NOTHING);
        return;
      }
      case Op.LISTPLUS: {
        const ino = this.ino(conn, r);
        const cookie = r.num();
        const batch = new Batch(r.u32());
        const p = this.parkable(conn);
        this.replyWhenSettled(conn, id, p, this.listPlus(conn, ino, cookie, batch, p.ctx));
        return;
      }
      case Op.LISTTREE: {
        if (conn.version < 4) throw new BadFrame('LISTTREE is a version 4 op');
        const budget = r.u32();
        const contentMax = Math.min(r.u32(), TREE_CONTENT_MAX);
        const n = r.u32();
        if (n === 0) throw new BadFrame('LISTTREE of no directory');
        const first = this.ino(conn, r);
        const more: number[] = [];
        for (let i = 1; i < n; i++) more.push(r.num());
        const p = this.parkable(conn);
        this.replyWhenSettled(conn, id, p, this.listTree(conn, first, more, budget, contentMax, p.ctx));
        return;
      }
      case Op.READ_FILE: {
        const path = r.str();
        this.pathOp(conn, id, path, false, async (ino, c) => {
          const data = await this.readWhole(ino, c);
          return (w) => w.bytes(data);
        });
        return;
      }
      case Op.WRITE_FILE: {
        const path = r.str();
        const flags = r.u32();
        const data = r.bytes();
        this.pathOp(conn, id, path, false, async (ino, c) => {
          const o = await vfs.open(ino, flags, c);
          try {
            const n = await vfs.write(o.fh, 0, data, c);
            await vfs.flush(o.fh, c);
            return (w) => w.u32(n);
          } finally {
            vfs.release(o.fh);
          }
        });
        return;
      }
      case Op.LIST: {
        const path = r.str();
        this.pathOp(conn, id, path, false, async (ino, c) => {
          const dh = await vfs.opendir(ino, c);
          const names: { name: string; kind: DirEntry['kind'] }[] = [];
          try {
            let cookie = 0;
            for (;;) {
              let last = 0;
              await vfs.readdir(
                dh,
                cookie,
                (e) => {
                  if (e.name !== '.' && e.name !== '..') names.push({ name: e.name, kind: e.kind });
                  last = e.next;
                  return true;
                },
                c,
              );
              if (last === 0) break;
              cookie = last;
            }
          } finally {
            vfs.releasedir(dh);
          }
          return (w) => {
            w.u32(names.length);
            for (const e of names) w.str(e.name).u8(e.kind === 'dir' ? 0 : e.kind === 'file' ? 1 : 2);
          };
        });
        return;
      }
      case Op.STAT: {
        const path = r.str();
        this.pathOp(conn, id, path, false, async (ino, c) => {
          const a = await vfs.getattr(ino, c);
          return (w) => w.attr(a);
        });
        return;
      }
      case Op.MKDIR_PATH: {
        const path = r.str();
        const mode = r.u32();
        this.pathOp(conn, id, path, true, async (parent, c, name) => {
          const e = await vfs.mkdir(parent, name, mode, c);
          vfs.forget(e.ino, 1);
          return NOTHING;
        });
        return;
      }
      case Op.RMDIR_PATH: {
        const path = r.str();
        this.pathOp(conn, id, path, true, async (parent, c, name) => {
          await vfs.rmdir(parent, name, c);
          return NOTHING;
        });
        return;
      }
      case Op.OPEN_PATH: {
        const path = r.str();
        const flags = r.u32();
        // The handle keeps the file's lookup until RELEASE (as the kernel keeps an open file's inode).
        const parts = splitPath(path);
        const p = this.parkable(conn);
        this.walk(parts, parts.length, p.ctx).then(
          (ino) => {
            if (conn.gone) {
              if (ino !== ROOT_INO) vfs.forget(ino, 1);
              return;
            }
            this.openReply(
              conn,
              id,
              ino,
              (c) => vfs.open(ino, flags, c),
              () => {
                if (ino !== ROOT_INO) vfs.forget(ino, 1);
              },
            );
            p.done();
          },
          (err) => {
            p.done();
            if (!conn.gone) this.fail(conn, id, err);
          },
        );
        return;
      }
      default:
        throw new BadFrame(`unknown op ${op}`);
    }
  }

  /**
   * A handle's READs run one at a time, in the order they came, as the kernel sends a file's reads: a READ that comes
   * while an earlier one of the same handle is parked waits behind it. So a client may keep several READs of a
   * consuming file in flight (the next is on its way while it writes the last), and the bytes still come in order.
   */
  private read(conn: Conn, id: number, fh: number, offset: number, size: number): void {
    const behind = conn.readsBehind.get(fh);
    if (behind) {
      behind.push(() => this.read(conn, id, fh, offset, size));
      return;
    }
    const next = () => {
      const waiting = conn.readsBehind.get(fh) ?? [];
      conn.readsBehind.delete(fh);
      if (conn.gone) return;
      // The first may park again: the others then queue behind it, still in order.
      for (const run of waiting) run();
    };
    // The op renders into a slot the socket thread writes from (its reply header goes in front): see reply-slots.ts.
    if (!this.slots) {
      this.slots = ReplySlots.create();
      this.send({ t: 'slots', buffer: this.slots.buffer });
    }
    const slots = this.slots;
    const slot = slots.lend();
    const p = this.parkable(conn);
    const ctx: OpContext = slot < 0 ? p.ctx : { ...p.ctx, replyBuffer: slots.body(slot) };
    const answered = (data: Uint8Array) => {
      p.done();
      if (conn.gone) slots.free(slot);
      else if (slots.holds(slot, data)) this.queue(conn, slots.seal(slot, id, data.length));
      else {
        slots.free(slot);
        this.reply(conn, id, (w) => w.bytes(data));
      }
    };
    const failed = (err: unknown) => {
      p.done();
      slots.free(slot);
      if (!conn.gone) this.fail(conn, id, err);
    };
    let v: MaybePromise<Uint8Array>;
    try {
      v = this.vfs.read(fh, offset, size, ctx);
    } catch (err) {
      failed(err);
      return;
    }
    if (!isPromise(v)) {
      answered(v);
      return;
    }
    conn.readsBehind.set(fh, []);
    v.then(answered, failed).then(next, next);
  }

  /** Drops up to `n` of the lookups this connection holds of `ino` (never more than it holds). */
  private forget(conn: Conn, ino: number, n: number): void {
    const k = Math.min(n, conn.lookups.get(ino) ?? 0);
    if (k > 0) {
      this.drop(conn, ino, k);
      this.vfs.forget(ino, k);
    }
  }

  /** An inode argument: the root, or one this connection holds a lookup of. */
  private ino(conn: Conn, r: Reader): number {
    const ino = r.num();
    if (ino !== ROOT_INO && !conn.lookups.has(ino)) throw new BadFrame(`inode ${ino} was not looked up`);
    return ino;
  }

  private fh(conn: Conn, fh: number): number {
    if (!conn.files.has(fh)) throw new FsError('EBADF');
    return fh;
  }

  private dh(conn: Conn, dh: number): number {
    if (!conn.dirs.has(dh)) throw new FsError('EBADF');
    return dh;
  }

  private hold(conn: Conn, e: Entry): void {
    if (conn.gone) {
      this.vfs.forget(e.ino, 1);
      return;
    }
    conn.lookups.set(e.ino, (conn.lookups.get(e.ino) ?? 0) + 1);
  }

  private drop(conn: Conn, ino: number, n: number): void {
    const left = (conn.lookups.get(ino) ?? 0) - n;
    if (left > 0) conn.lookups.set(ino, left);
    else conn.lookups.delete(ino);
  }

  private holdFile(conn: Conn, o: OpenResult, ino: number): void {
    if (conn.gone) {
      this.vfs.release(o.fh);
      if (ino !== 0 && ino !== ROOT_INO) this.vfs.forget(ino, 1);
      return;
    }
    conn.files.set(o.fh, ino);
  }

  private releaseFile(conn: Conn, fh: number): void {
    const ino = conn.files.get(fh);
    if (ino === undefined) return;
    conn.files.delete(fh);
    this.vfs.release(fh);
    if (ino !== 0 && ino !== ROOT_INO) this.vfs.forget(ino, 1);
  }

  private entryReply(conn: Conn, id: number, value: () => MaybePromise<Entry>): void {
    this.answer(conn, id, value, (e) => {
      this.hold(conn, e);
      return (w) => w.entry(e);
    });
  }

  /**
   * Replies to an open once it settles; the handle is the connection's from then on (with `pathIno`'s lookup, for a
   * path open). `first`: OPEN_READ's read of the fresh handle, whose bytes follow the open in the reply (a failed
   * read is left for the client's own READ to meet).
   */
  private openReply(
    conn: Conn,
    id: number,
    pathIno: number,
    value: (ctx: OpContext) => MaybePromise<OpenResult>,
    onError?: () => void,
    first?: (o: OpenResult, ctx: OpContext) => MaybePromise<Uint8Array> | undefined,
  ): void {
    const p = this.parkable(conn);
    let v: MaybePromise<OpenResult>;
    try {
      v = value(p.ctx);
    } catch (err) {
      p.done();
      onError?.();
      this.fail(conn, id, err);
      return;
    }
    const send = (o: OpenResult, data: Uint8Array | undefined) => {
      p.done();
      this.holdFile(conn, o, pathIno);
      if (conn.gone) return;
      if (!first) this.reply(conn, id, (w) => w.open(o));
      else if (data) this.reply(conn, id, (w) => w.open(o).u8(1).bytes(data));
      else this.reply(conn, id, (w) => w.open(o).u8(0));
    };
    const settle = (o: OpenResult) => {
      let data: MaybePromise<Uint8Array> | undefined;
      try {
        data = first?.(o, p.ctx);
      } catch {
        data = undefined;
      }
      if (!isPromise(data)) send(o, data);
      else
        data.then(
          (d) => send(o, d),
          () => send(o, undefined),
        );
    };
    if (!isPromise(v)) settle(v);
    else
      v.then(settle, (err) => {
        p.done();
        onError?.();
        if (!conn.gone) this.fail(conn, id, err);
      });
  }

  /**
   * LISTPLUS: a listing and a lookup of each name, in one trip (READDIRPLUS for a client that caches, which would
   * otherwise ask for the directory and then each name). The lookups are held by the connection like LOOKUP's.
   */
  private async listPlus(conn: Conn, ino: number, cookie: number, batch: Batch, ctx: OpContext): Promise<Result> {
    const vfs = this.vfs;
    const dh = await vfs.opendir(ino, ctx);
    try {
      await vfs.readdir(dh, cookie, batch.fill, ctx);
    } finally {
      vfs.releasedir(dh);
    }
    const { list, full } = batch;
    const found: (Entry | undefined)[] = await Promise.all(
      list.map(async (e) => {
        if (e.name === '.' || e.name === '..') return undefined;
        try {
          const entry = await vfs.lookup(ino, e.name, ctx);
          this.hold(conn, entry);
          return entry;
        } catch {
          return undefined; // gone between the listing and the lookup: listed without an entry
        }
      }),
    );
    return (w) => {
      w.u8(full ? 0 : 1).u32(list.length);
      for (let i = 0; i < list.length; i++) {
        w.dirent(list[i]);
        const e = found[i];
        if (e) w.u8(1).entry(e);
        else w.u8(0);
      }
    };
  }

  /**
   * LISTTREE: whole listings (each as LISTPLUS's, up to 4096 names), breadth first from the directories asked for, with
   * the bytes of small constant files — so a client that caches can feed a walk of a subtree from a few trips.
   */
  private async listTree(
    conn: Conn,
    first: number,
    more: readonly number[],
    budget: number,
    contentMax: number,
    ctx: OpContext,
  ): Promise<Result> {
    const vfs = this.vfs;
    const queue = [first, ...more.filter((ino) => ino === ROOT_INO || conn.lookups.has(ino))];
    const dirs: {
      ino: number;
      eof: boolean;
      list: DirEntry[];
      found: (Entry | undefined)[];
      bytes: (Uint8Array | undefined)[];
    }[] = [];
    let listed = 0;
    for (let q = 0; q < queue.length && (dirs.length === 0 || listed < budget) && !conn.gone; q++) {
      const ino = queue[q];
      const batch = new Batch(4096);
      try {
        const dh = await vfs.opendir(ino, ctx);
        try {
          await vfs.readdir(dh, 0, batch.fill, ctx);
        } finally {
          vfs.releasedir(dh);
        }
      } catch (err) {
        if (q === 0) throw err; // the directory asked for answers its own error; the others are just not listed
        continue;
      }
      const { list, full } = batch;
      const found: (Entry | undefined)[] = [];
      const bytes: (Uint8Array | undefined)[] = [];
      for (const e of list) {
        let entry: Entry | undefined;
        if (e.name !== '.' && e.name !== '..') {
          try {
            const r = vfs.lookup(ino, e.name, ctx);
            entry = isPromise(r) ? await r : r;
            this.hold(conn, entry);
          } catch {
            entry = undefined; // gone between the listing and the lookup
          }
        }
        found.push(entry);
        bytes.push(entry ? await this.constantBytes(entry, contentMax, ctx) : undefined);
        if (entry?.attr.kind === 'dir') queue.push(entry.ino);
      }
      listed += list.length;
      dirs.push({ ino, eof: !full, list, found, bytes });
    }
    return (w) => {
      w.u32(dirs.length);
      for (const d of dirs) {
        w.f64(d.ino)
          .u8(d.eof ? 1 : 0)
          .u32(d.list.length);
        for (let i = 0; i < d.list.length; i++) {
          w.dirent(d.list[i]);
          const e = d.found[i];
          const b = d.bytes[i];
          w.u8((e ? 1 : 0) | (b ? 2 : 0));
          if (e) w.entry(e);
          if (b) w.bytes(b);
        }
      }
    };
  }

  /**
   * A small file's bytes, when a read-only open by this connection succeeds and is cached (constant content, fixed
   * for the node's life: neither direct_io, stream nor pollable) — what OPEN_READ would answer.
   */
  private async constantBytes(e: Entry, max: number, ctx: OpContext): Promise<Uint8Array | undefined> {
    if (e.attr.kind !== 'file' || e.attr.size === 0 || e.attr.size > max) return undefined;
    try {
      const o0 = this.vfs.open(e.ino, O_RDONLY, ctx);
      const o = isPromise(o0) ? await o0 : o0;
      try {
        if (o.directIo || o.stream || o.pollable) return undefined;
        const r = this.vfs.read(o.fh, 0, max, ctx);
        const data = isPromise(r) ? await r : r;
        return data.length === e.attr.size ? data : undefined;
      } finally {
        this.vfs.release(o.fh);
      }
    } catch {
      return undefined; // not readable by this connection: the client's own open meets the error
    }
  }

  /** Lookups of the first `n` parts from the root; the last one's lookup is kept (the caller forgets it). */
  private async walk(parts: string[], n: number, ctx: OpContext): Promise<number> {
    let ino = ROOT_INO;
    try {
      for (let i = 0; i < n; i++) {
        const e = await this.vfs.lookup(ino, parts[i], ctx);
        if (ino !== ROOT_INO) this.vfs.forget(ino, 1);
        ino = e.ino;
      }
    } catch (err) {
      if (ino !== ROOT_INO) this.vfs.forget(ino, 1);
      throw err;
    }
    return ino;
  }

  /**
   * A path op: walks to the target (or, with `parentOnly`, to its parent, passing the last name), runs `body`, and
   * forgets what the walk looked up, whatever happens.
   */
  private pathOp(
    conn: Conn,
    id: number,
    path: string,
    parentOnly: boolean,
    body: (ino: number, ctx: OpContext, name: string) => Promise<Result>,
  ): void {
    const parts = splitPath(path);
    if (parentOnly && parts.length === 0) {
      this.fail(conn, id, new FsError('EBUSY')); // the root itself
      return;
    }
    const p = this.parkable(conn);
    const n = parentOnly ? parts.length - 1 : parts.length;
    const result = this.walk(parts, n, p.ctx).then(async (ino) => {
      try {
        return await body(ino, p.ctx, parts[parts.length - 1] ?? '');
      } finally {
        if (ino !== ROOT_INO) this.vfs.forget(ino, 1);
      }
    });
    this.replyWhenSettled(conn, id, p, result);
  }

  /** Replies with what `result` settles to, unless the connection went meanwhile; `p` is done either way. */
  private replyWhenSettled(conn: Conn, id: number, p: { done: () => void }, result: Promise<Result>): void {
    result.then(
      (r) => {
        p.done();
        if (!conn.gone) this.reply(conn, id, r);
      },
      (err) => {
        p.done();
        if (!conn.gone) this.fail(conn, id, err);
      },
    );
  }

  private async readWhole(ino: number, ctx: OpContext): Promise<Uint8Array> {
    const o = await this.vfs.open(ino, O_RDONLY & O_ACCMODE, ctx);
    try {
      const chunks: Uint8Array[] = [];
      let total = 0;
      for (;;) {
        const chunk = await this.vfs.read(o.fh, total, READ_CHUNK, ctx);
        if (chunk.length === 0) break;
        chunks.push(chunk);
        total += chunk.length;
        if (total > READ_FILE_CAP) throw new FsError('EFBIG');
      }
      return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    } finally {
      this.vfs.release(o.fh);
    }
  }

  /** The connection is gone: its parked requests are interrupted and everything it held is released, once. */
  private release(conn: Conn): void {
    if (conn.gone) return;
    conn.gone = true;
    this.conns.delete(conn.id);
    this.watchers.delete(conn);
    if (this.watchers.size === 0) {
      this.unsubscribe?.();
      this.unsubscribe = undefined;
    }
    for (const f of this.outbox.get(conn.id) ?? []) if (!(f instanceof Uint8Array)) this.slots?.free(f.slot);
    this.outbox.delete(conn.id);
    conn.readsBehind.clear();
    for (const ac of conn.inflight) ac.abort();
    conn.inflight.clear();
    for (const fh of [...conn.files.keys()]) this.releaseFile(conn, fh);
    for (const dh of conn.dirs) this.vfs.releasedir(dh);
    conn.dirs.clear();
    for (const [ino, n] of conn.lookups) this.vfs.forget(ino, n);
    conn.lookups.clear();
  }
}

/**
 * One reply's worth of directory entries (READDIR, LISTPLUS): takes up to `max` (clamped to 1…4096) and says
 * whether the listing had more (`full`).
 */
class Batch {
  readonly list: DirEntry[] = [];
  full = false;
  private readonly max: number;

  constructor(max: number) {
    this.max = Math.max(1, Math.min(max, 4096));
  }

  readonly fill = (e: DirEntry): boolean => {
    if (this.list.length >= this.max) {
      this.full = true;
      return false;
    }
    this.list.push(e);
    return true;
  };
}

/** Path components from the root: empty parts and `.` dropped, `..` pops but never above the root. */
function splitPath(path: string): string[] {
  const parts: string[] = [];
  for (const p of path.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return parts;
}
