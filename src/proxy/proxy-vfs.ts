/**
 * `ntrace mount`'s tree module: a `Vfs` whose every operation is a request over a serving process's socket, imported
 * in the FUSE serving thread of the `ntrace mount` command. That thread blocks in read(2) on /dev/fuse, so it does no
 * socket I/O itself: it posts each request frame on its relay port to the command's main thread, which writes it to
 * the socket, posts the reply bodies back and wakes this thread (a lookup of the doorbell name through the mount, so
 * it works from the first request the kernel sends, while the mount is still being made). Nothing is kept here but
 * the pending requests and the poll wake-ups of open handles; the remote tree decides everything, with the socket's
 * identity.
 *
 * Caching is the remote tree's, as on its own mount: entries and attributes keep the tree's timeouts, and the tree's
 * changes reach this mount's kernel as invalidations — the connection WATCHes, and each NOTIFY_CHANGE is passed to
 * the FUSE server through `onChange`, as kernfs does on a direct mount. A directory is listed with LISTPLUS (the
 * names and a lookup of each in one trip); READDIRPLUS's lookups that follow are answered from that reply. Opens
 * keep the tree's answer (direct_io, or cached content for constant files such as `id` and `format`, exactly as on
 * the app's own mount), and are made with OPEN_READ: the first read's bytes come with the handle and answer the
 * kernel's first READ at offset 0 without a trip.
 */
import { constants } from 'node:os';
import { type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import type { VfsEnv } from '../fuse/vfs-module.js';
import type {
  AttrChanges,
  Attributes,
  DirEntry,
  DirFiller,
  Entry,
  OpContext,
  OpenResult,
  StatFs,
  Vfs,
  VfsChange,
} from '../kernfs/vfs.js';
import { Calls, RemoteError } from '../socket/calls.js';
import {
  CHANGE_INODE,
  NOTIFY_CHANGE,
  NOTIFY_POLL,
  Op,
  type Reader,
  SetattrField,
  type Writer,
} from '../socket/protocol.js';

/** From the main thread: reply bodies, or the end of the connection. */
export type ToProxy = { t: 'bodies'; bodies: Uint8Array[] } | { t: 'gone' };

const READDIR_BATCH = 1024;
const FORGETS_BATCH = 4096;
/** How long the rest of a listing waits for the READDIR that continues it, and listed lookups for the kernel's. */
const REST_MS = 5000;
/** One name of a LISTPLUS reply, with its held lookup (none for `.`, `..`, or a name gone meanwhile). */
interface Listed {
  readonly d: DirEntry;
  readonly e: Entry | undefined;
}
/** OPEN_READ's read: the largest READ this mount's kernel sends (its max_read). */
const FIRST_READ = 128 * 1024;

export class ProxyVfs implements Vfs {
  private readonly calls: Calls;
  private readonly wakes = new Map<number, () => void>();
  private readonly changeListeners = new Set<(change: VfsChange) => void>();
  /** Directory handles are ours: a handle is the inode it lists (LISTPLUS opens and releases on the remote). */
  private readonly dirs = new Map<number, number>();
  private nextDh = 1;
  /**
   * Lookups LISTPLUS made, by `parent/name`, until READDIRPLUS's lookups or the kernel's LOOKUPs take them, a change
   * of that entry drops them, or the sweep forgets them (REST_MS).
   */
  private readonly listed = new Map<string, Entry>();
  /** Where the last listing of a directory ended: its next READDIR there answers empty without a trip. */
  private readonly ends = new Map<number, number>();
  /** A listing's items beyond the kernel's last READDIR page, by directory, for the READDIR that continues there. */
  private readonly rests = new Map<number, { from: number; items: Listed[]; eof: boolean }>();
  /** Open handles' first reads (OPEN_READ), until the kernel's first READ takes them or the handle is released. */
  private readonly firstReads = new Map<number, Uint8Array>();
  /** Forgets not sent yet: ino, n, ino, n… */
  private forgets: number[] = [];

  constructor(env: VfsEnv, relay: MessagePort) {
    this.calls = new Calls(
      (frame) => relay.postMessage(frame),
      (kind, r) => this.notified(kind, r),
    );
    this.post(Op.WATCH, () => {});
    env.onWake(() => {
      for (;;) {
        const m = receiveMessageOnPort(relay);
        if (!m) return;
        this.receive(m.message as ToProxy);
      }
    });
  }

  private receive(m: ToProxy): void {
    if (m?.t === 'gone') {
      this.calls.fail();
      for (const wake of this.wakes.values()) wake(); // pollers see the error on their next read
      this.wakes.clear();
      return;
    }
    if (m?.t !== 'bodies') return;
    for (const body of m.bodies) {
      try {
        this.calls.receive(body);
      } catch {
        // a body we cannot parse: that request's caller is answered when the connection ends
      }
    }
  }

  private notified(kind: number, r: Reader): void {
    if (kind === NOTIFY_POLL) {
      const fh = r.f64();
      const wake = this.wakes.get(fh);
      this.wakes.delete(fh);
      wake?.();
    } else if (kind === NOTIFY_CHANGE) {
      const change: VfsChange =
        r.u8() === CHANGE_INODE ? { type: 'inode', ino: r.f64() } : { type: 'entry', parent: r.f64(), name: r.str() };
      if (change.type === 'entry') this.unlist(`${change.parent}/${change.name}`);
      if (change.type === 'inode') {
        this.ends.delete(change.ino);
        const rest = this.rests.get(change.ino);
        this.rests.delete(change.ino);
        if (rest) this.drop(rest.items);
      }
      for (const listener of this.changeListeners) listener(change);
    }
  }

  private call(op: number, args: (w: Writer) => void): Promise<Reader> {
    return this.calls.call(op, args);
  }

  /** For ops that return nothing the kernel waits for (forget, release). */
  private post(op: number, args: (w: Writer) => void): void {
    this.call(op, args).catch(() => {});
  }

  private async entry(op: number, args: (w: Writer) => void): Promise<Entry> {
    return (await this.call(op, args)).entry();
  }

  lookup(parent: number, name: string, _ctx: OpContext): Entry | Promise<Entry> {
    const key = `${parent}/${name}`;
    const listed = this.listed.get(key);
    if (listed) {
      this.listed.delete(key);
      return listed;
    }
    return this.entry(Op.LOOKUP, (w) => w.f64(parent).str(name));
  }
  /** Forgets go out together (dropping caches forgets thousands at once): one FORGETS per turn, or per batch. */
  forget(ino: number, nlookup: number): void {
    this.forgets.push(ino, nlookup);
    if (this.forgets.length >= FORGETS_BATCH * 2) this.sendForgets();
    else if (this.forgets.length === 2) queueMicrotask(() => this.sendForgets());
  }
  private sendForgets(): void {
    const list = this.forgets;
    if (list.length === 0) return;
    this.forgets = [];
    this.post(Op.FORGETS, (w) => {
      w.u32(list.length / 2);
      for (const v of list) w.f64(v);
    });
  }
  async getattr(ino: number): Promise<Attributes> {
    return (await this.call(Op.GETATTR, (w) => w.f64(ino))).attr();
  }
  async setattr(ino: number, c: AttrChanges, _ctx: OpContext, fh?: number): Promise<Attributes> {
    let mask = 0;
    if (c.mode !== undefined) mask |= SetattrField.MODE;
    if (c.uid !== undefined) mask |= SetattrField.UID;
    if (c.gid !== undefined) mask |= SetattrField.GID;
    if (c.size !== undefined) mask |= SetattrField.SIZE;
    if (c.atimeMs !== undefined) mask |= SetattrField.ATIME | (c.atimeMs === 'now' ? SetattrField.ATIME_NOW : 0);
    if (c.mtimeMs !== undefined) mask |= SetattrField.MTIME | (c.mtimeMs === 'now' ? SetattrField.MTIME_NOW : 0);
    if (fh !== undefined) mask |= SetattrField.FH;
    const time = (t: number | 'now' | undefined) => (typeof t === 'number' ? t : 0);
    const r = await this.call(Op.SETATTR, (w) =>
      w
        .f64(ino)
        .u16(mask)
        .u32(c.mode ?? 0)
        .u32(c.uid ?? 0)
        .u32(c.gid ?? 0)
        .f64(c.size ?? 0)
        .f64(time(c.atimeMs))
        .f64(time(c.mtimeMs))
        .f64(fh ?? 0),
    );
    return r.attr();
  }
  async access(ino: number, mask: number): Promise<void> {
    await this.call(Op.ACCESS, (w) => w.f64(ino).u32(mask));
  }
  async readlink(ino: number): Promise<string> {
    return (await this.call(Op.READLINK, (w) => w.f64(ino))).str();
  }
  async open(ino: number, flags: number): Promise<OpenResult> {
    const r = await this.call(Op.OPEN_READ, (w) => w.f64(ino).u32(flags).u32(FIRST_READ));
    const o = r.open();
    if (r.u8() === 1) this.firstReads.set(o.fh, r.bytes());
    return o;
  }
  /**
   * The first READ at offset 0 is answered from OPEN_READ's bytes when they say all there is to say: the whole file
   * (fewer bytes than asked) or at least what the kernel asks now. Anything else is a trip, as any later READ.
   */
  read(fh: number, offset: number, size: number): Uint8Array | Promise<Uint8Array> {
    const first = this.firstReads.get(fh);
    if (first) {
      this.firstReads.delete(fh);
      if (offset === 0 && (first.length < FIRST_READ || size <= first.length))
        return first.subarray(0, Math.min(size, first.length));
    }
    return this.call(Op.READ, (w) => w.f64(fh).f64(offset).u32(size)).then((r) => r.bytes());
  }
  async write(fh: number, offset: number, data: Uint8Array): Promise<number> {
    return (await this.call(Op.WRITE, (w) => w.f64(fh).f64(offset).bytes(data))).u32();
  }
  async flush(fh: number): Promise<void> {
    await this.call(Op.FLUSH, (w) => w.f64(fh));
  }
  release(fh: number): void {
    this.wakes.delete(fh);
    this.firstReads.delete(fh);
    this.post(Op.RELEASE, (w) => w.f64(fh));
  }
  async poll(fh: number, wake: (() => void) | undefined): Promise<number> {
    if (wake) this.wakes.set(fh, wake);
    return (await this.call(Op.POLL, (w) => w.f64(fh).u8(wake ? 1 : 0))).u32();
  }
  /**
   * No trip: the mount uses the FUSE server's zero-message opendir (as a direct mount does), so this is called only
   * right before a readdir, whose LISTPLUS opens the directory on the remote and meets its errors.
   */
  opendir(ino: number): number {
    const dh = this.nextDh++;
    this.dirs.set(dh, ino);
    return dh;
  }
  readdir(dh: number, cookie: number, fill: DirFiller): void | Promise<void> {
    const ino = this.dirs.get(dh);
    if (ino === undefined) throw new RemoteError(constants.errno.EBADF);
    if (cookie !== 0 && this.ends.get(ino) === cookie) {
      this.ends.delete(ino);
      return;
    }
    const rest = this.rests.get(ino);
    if (rest) {
      this.rests.delete(ino);
      if (rest.from === cookie) return this.take(ino, cookie, rest.items, rest.eof, fill);
      this.drop(rest.items);
    }
    return this.call(Op.LISTPLUS, (w) => w.f64(ino).f64(cookie).u32(READDIR_BATCH)).then((r) => {
      const eof = r.u8() === 1;
      const items: Listed[] = [];
      for (let i = 0, n = r.u32(); i < n; i++) items.push({ d: r.dirent(), e: r.u8() === 1 ? r.entry() : undefined });
      this.take(ino, cookie, items, eof, fill);
    });
  }

  /**
   * Fills a READDIR from listed items. The kernel's reply holds a page of them; what it did not take is kept for the
   * READDIR that continues there (one LISTPLUS per directory, not one per page), and forgotten if none comes soon.
   */
  private take(ino: number, cookie: number, items: Listed[], eof: boolean, fill: DirFiller): void {
    const mine: string[] = [];
    let last = cookie;
    let i = 0;
    for (; i < items.length; i++) {
      const { d, e } = items[i];
      if (!fill(d)) break;
      last = d.next;
      if (!e) continue;
      const key = `${ino}/${d.name}`;
      const earlier = this.listed.get(key);
      if (earlier) this.forget(earlier.ino, 1);
      this.listed.set(key, e);
      mine.push(key);
    }
    if (i < items.length) {
      const rest = { from: last, items: items.slice(i), eof };
      this.rests.set(ino, rest);
      setTimeout(() => {
        if (this.rests.get(ino) !== rest) return;
        this.rests.delete(ino);
        this.drop(rest.items);
      }, REST_MS).unref();
    } else if (eof && items.length > 0) this.ends.set(ino, last);
    // READDIRPLUS takes its lookups in the microtasks that follow this listing; after a plain READDIR (the kernel's
    // later pages of a big directory) the kernel looks the names up one by one soon after, answered from here too.
    // What is left is forgotten after a while.
    if (mine.length > 0)
      setTimeout(() => {
        for (const key of mine) {
          const e = this.listed.get(key);
          if (!e) continue;
          this.listed.delete(key);
          this.forget(e.ino, 1);
        }
      }, REST_MS).unref();
  }

  /** A listed entry that changed: the next lookup of it asks the tree. */
  private unlist(key: string): void {
    const e = this.listed.get(key);
    if (!e) return;
    this.listed.delete(key);
    this.forget(e.ino, 1);
  }

  /** Listed items nobody will take: their lookups are given back. */
  private drop(items: readonly Listed[]): void {
    for (const { e } of items) if (e) this.forget(e.ino, 1);
  }
  releasedir(dh: number): void {
    this.dirs.delete(dh);
  }
  mkdir(parent: number, name: string, mode: number): Promise<Entry> {
    return this.entry(Op.MKDIR, (w) => w.f64(parent).str(name).u32(mode));
  }
  async rmdir(parent: number, name: string): Promise<void> {
    await this.call(Op.RMDIR, (w) => w.f64(parent).str(name));
  }
  async unlink(parent: number, name: string): Promise<void> {
    await this.call(Op.UNLINK, (w) => w.f64(parent).str(name));
  }
  async rename(parent: number, name: string, newParent: number, newName: string, flags: number): Promise<void> {
    await this.call(Op.RENAME, (w) => w.f64(parent).str(name).f64(newParent).str(newName).u32(flags));
  }
  async create(parent: number, name: string, mode: number, flags: number): Promise<{ entry: Entry; open: OpenResult }> {
    const r = await this.call(Op.CREATE, (w) => w.f64(parent).str(name).u32(mode).u32(flags));
    const entry = r.entry();
    return { entry, open: r.open() };
  }
  mknod(parent: number, name: string, mode: number, rdev: number): Promise<Entry> {
    return this.entry(Op.MKNOD, (w) => w.f64(parent).str(name).u32(mode).u32(rdev));
  }
  symlink(parent: number, name: string, target: string): Promise<Entry> {
    return this.entry(Op.SYMLINK, (w) => w.f64(parent).str(name).str(target));
  }
  link(ino: number, newParent: number, newName: string): Promise<Entry> {
    return this.entry(Op.LINK, (w) => w.f64(ino).f64(newParent).str(newName));
  }
  async statfs(ino: number): Promise<StatFs> {
    return (await this.call(Op.STATFS, (w) => w.f64(ino))).statfs();
  }
  onChange(listener: (change: VfsChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }
  liveInodes(): number {
    return 0;
  }
}

/** The tree module's factory (mountFuse imports this file in the serving thread). */
export function createVfs(data: { relay: MessagePort }, env: VfsEnv): Vfs {
  return new ProxyVfs(env, data.relay);
}
