/**
 * `ntrace mount`'s tree module: a `Vfs` whose every operation is a request over a serving process's socket, imported
 * in the FUSE serving thread of the `ntrace mount` command. That thread blocks in read(2) on /dev/fuse, so it does no
 * socket I/O itself: it posts each request frame on its relay port to the command's main thread, which writes it to
 * the socket, posts the reply bodies back and wakes this thread (a lookup of the doorbell name through the mount, so
 * it works from the first request the kernel sends, while the mount is still being made). Nothing is kept here but
 * the pending requests, open handles and the prefetch below; the remote tree decides everything, with the socket's
 * identity.
 *
 * Caching is the remote tree's, as on its own mount: entries and attributes keep the tree's timeouts, and the tree's
 * changes reach this mount's kernel as invalidations — the connection WATCHes, and each NOTIFY_CHANGE is passed to
 * the FUSE server through `onChange`, as kernfs does on a direct mount. A directory is listed with LISTTREE (the
 * names and a lookup of each in one trip); READDIRPLUS's lookups that follow are answered from that reply. The same
 * reply brings the listings of the directories a walk reads next, kept as a short-lived prefetch that only answers
 * the kernel's next READDIR, LOOKUP and OPEN of them (docs/SOCKET.md says when it goes). Opens
 * keep the tree's answer (direct_io, or cached content for constant files such as `id` and `format`, exactly as on
 * the app's own mount), and are made with OPEN_READ: the first read's bytes come with the handle and answer the
 * kernel's first READ at offset 0 without a trip.
 */
import { constants } from 'node:os';
import { type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import type { VfsEnv } from '../fuse/vfs-module.js';
import { O_ACCMODE, O_RDONLY, O_TRUNC } from '../kernfs/mode.js';
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
/** LISTTREE: names per trip, directories asked for beside the one the kernel reads, largest file whose bytes come. */
const TREE_BUDGET = 8192;
const TREE_MORE = 1024;
const TREE_CONTENT_MAX = 256;
/** Directories the frontier remembers (a kernel-sized tree has ~2,500). */
const FRONTIER_MAX = 16384;
/** Handles this side makes for opens answered from a listing's bytes: above any handle the tree hands out. */
const LOCAL_FH = 2 ** 52;
/** What poll(2) reports for a file without poll support (the kernel's DEFAULT_POLLMASK). */
const DEFAULT_POLLMASK = 0x145;
const FORGETS_BATCH = 4096;
/** How long the rest of a listing waits for the READDIR that continues it, and listed lookups for the kernel's. */
const REST_MS = 5000;
/**
 * One name of a LISTPLUS/LISTTREE reply, with its held lookup (none for `.`, `..`, a name gone meanwhile, or one the
 * kernel's LOOKUP already took).
 */
interface Listed {
  readonly d: DirEntry;
  e: Entry | undefined;
}
/** A directory LISTTREE listed before the kernel asked for it. */
interface Prefetched {
  readonly items: Listed[];
  readonly eof: boolean;
  readonly byName: Map<string, Listed>;
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
  /**
   * The prefetch: listings LISTTREE brought of directories the kernel has not read yet, and the bytes of small
   * constant files, by inode. Each answers the kernel's next READDIR, LOOKUP or OPEN of it once, and goes when taken,
   * when the tree reports a change of it (WATCH), when the kernel forgets it (so a cold walk after drop_caches starts
   * over), or after REST_MS.
   */
  private readonly trees = new Map<number, Prefetched>();
  private readonly contents = new Map<number, Uint8Array>();
  /** Subdirectories listings named but LISTTREE did not list yet, in its order: asked for beside the next miss. */
  private frontier: number[] = [];
  private frontierAt = new Map<number, number>();
  /** Per LISTTREE in flight: the inodes changes were reported for meanwhile (their part of the reply is stale). */
  private readonly flights = new Set<Set<number>>();
  /** LISTTREEs a LOOKUP made, by directory: the LOOKUPs of other names in it wait for the same one. */
  private readonly fetching = new Map<number, Promise<void>>();
  /** Open handles answered from a listing's bytes: no trip for their open, reads or release. */
  private readonly localFiles = new Map<number, Uint8Array>();
  private nextLocal = 1;
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
      // Nothing is answered from the prefetch once the tree is gone: the kernel meets ENODEV.
      this.trees.clear();
      this.contents.clear();
      this.listed.clear();
      this.rests.clear();
      this.ends.clear();
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
      for (const seen of this.flights) seen.add(change.type === 'inode' ? change.ino : change.parent);
      if (change.type === 'entry') {
        this.unlist(`${change.parent}/${change.name}`);
        this.unfetch(change.parent);
      }
      if (change.type === 'inode') {
        this.unfetch(change.ino);
        this.contents.delete(change.ino);
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
    const fetched = this.fromTree(parent, name);
    if (fetched) return fetched;
    // A directory a walk's listings named but did not list yet (`cat events/*/*/id` looks up `id` in each event's
    // directory without reading it): one LISTTREE lists it and the ones named after it.
    if (this.frontierAt.has(parent) && !this.trees.has(parent)) {
      let p = this.fetching.get(parent);
      if (!p) {
        p = this.listTree(parent).then(({ items, eof }) => {
          this.fetching.delete(parent);
          this.prefetched(parent, items, eof);
        });
        p.catch(() => this.fetching.delete(parent));
        this.fetching.set(parent, p);
      }
      return p.then(() => this.fromTree(parent, name) ?? this.entry(Op.LOOKUP, (w) => w.f64(parent).str(name)));
    }
    return this.entry(Op.LOOKUP, (w) => w.f64(parent).str(name));
  }
  /** Forgets go out together (dropping caches forgets thousands at once): one FORGETS per turn, or per batch. */
  forget(ino: number, nlookup: number): void {
    // Whoever forgets an inode (the kernel, or this side giving back a lookup nobody took), its prefetch goes: what
    // is not held any more is not watched either.
    this.unfetch(ino);
    this.contents.delete(ino);
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
    const bytes = (flags & (O_ACCMODE | O_TRUNC)) === O_RDONLY ? this.contents.get(ino) : undefined;
    if (bytes) {
      // The tree opened it read-only for this connection while listing, and its content is constant.
      this.contents.delete(ino);
      const fh = LOCAL_FH + this.nextLocal++;
      this.localFiles.set(fh, bytes);
      return { fh, directIo: false, stream: false, pollable: false };
    }
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
    const local = this.localFiles.get(fh);
    if (local) return local.subarray(offset, offset + size);
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
    if (this.localFiles.has(fh)) return;
    await this.call(Op.FLUSH, (w) => w.f64(fh));
  }
  release(fh: number): void {
    if (this.localFiles.delete(fh)) return;
    this.wakes.delete(fh);
    this.firstReads.delete(fh);
    this.post(Op.RELEASE, (w) => w.f64(fh));
  }
  async poll(fh: number, wake: (() => void) | undefined): Promise<number> {
    if (this.localFiles.has(fh)) return DEFAULT_POLLMASK;
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
    if (cookie === 0) {
      const fetched = this.trees.get(ino);
      if (fetched) {
        this.trees.delete(ino);
        return this.take(ino, 0, fetched.items, fetched.eof, fill);
      }
      return this.listTree(ino).then(({ items, eof }) => this.take(ino, 0, items, eof, fill));
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

  /**
   * One LISTTREE: `ino`'s listing for the kernel's READDIR, and — prefetched for the READDIRs, LOOKUPs and OPENs a
   * walk makes next — the listings of its subdirectories and of the directories the last listings named after it.
   */
  private async listTree(ino: number): Promise<{ items: Listed[]; eof: boolean }> {
    const more: number[] = [];
    const at = this.frontierAt.get(ino);
    if (at !== undefined)
      for (let i = at + 1; i < this.frontier.length && more.length < TREE_MORE; i++)
        if (!this.trees.has(this.frontier[i])) more.push(this.frontier[i]);
    const seen = new Set<number>();
    this.flights.add(seen);
    let r: Reader;
    try {
      r = await this.call(Op.LISTTREE, (w) => {
        w.u32(TREE_BUDGET)
          .u32(TREE_CONTENT_MAX)
          .u32(1 + more.length)
          .f64(ino);
        for (const m of more) w.f64(m);
      });
    } finally {
      this.flights.delete(seen);
    }
    let mine: { items: Listed[]; eof: boolean } | undefined;
    const listedNow = new Set<number>();
    const named: number[] = [];
    const fetchedNow: [number, Listed[], boolean][] = [];
    const bytesNow: [number, Uint8Array][] = [];
    for (let i = 0, m = r.u32(); i < m; i++) {
      const dir = r.f64();
      const eof = r.u8() === 1;
      const items: Listed[] = [];
      for (let j = 0, n = r.u32(); j < n; j++) {
        const d = r.dirent();
        const flags = r.u8();
        const e = flags & 1 ? r.entry() : undefined;
        const b = flags & 2 ? r.bytes() : undefined;
        items.push({ d, e });
        if (e && b && !seen.has(e.ino)) bytesNow.push([e.ino, b]);
        if (e?.attr.kind === 'dir') named.push(e.ino);
      }
      listedNow.add(dir);
      if (i === 0) mine = { items, eof };
      else if (seen.has(dir))
        this.drop(items); // changed while in flight: the kernel's READDIR will ask again
      else fetchedNow.push([dir, items, eof]);
    }
    for (const [dir, items, eof] of fetchedNow) this.prefetched(dir, items, eof);
    for (const [i, b] of bytesNow) this.contents.set(i, b);
    // Next misses ask for what listings named but this one did not list: its own subdirectories first (a walk goes
    // deeper before it goes on), then what was named before.
    this.frontier = [...named, ...this.frontier].filter((d) => !listedNow.has(d)).slice(0, FRONTIER_MAX);
    this.frontierAt = new Map(this.frontier.map((d, i) => [d, i]));
    if (bytesNow.length > 0)
      setTimeout(() => {
        for (const [i, b] of bytesNow) if (this.contents.get(i) === b) this.contents.delete(i);
      }, REST_MS).unref();
    return mine ?? { items: [], eof: true };
  }

  /** A name's lookup held by a prefetched listing of `parent`, taken (the kernel holds it now). */
  private fromTree(parent: number, name: string): Entry | undefined {
    const it = this.trees.get(parent)?.byName.get(name);
    const e = it?.e;
    if (it) it.e = undefined;
    return e;
  }

  /** A listing kept for the kernel's next READDIR and LOOKUPs of `dir` (REST_MS at most). */
  private prefetched(dir: number, items: Listed[], eof: boolean): Prefetched {
    const byName = new Map<string, Listed>();
    for (const it of items) byName.set(it.d.name, it);
    const p = { items, eof, byName };
    this.unfetch(dir);
    this.trees.set(dir, p);
    setTimeout(() => {
      if (this.trees.get(dir) === p) this.unfetch(dir);
    }, REST_MS).unref();
    return p;
  }

  /** A prefetched listing nobody will read (stale, or not held any more): its lookups are given back. */
  private unfetch(dir: number): void {
    const p = this.trees.get(dir);
    if (!p) return;
    this.trees.delete(dir);
    this.drop(p.items);
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
    for (const it of items) {
      const e = it.e;
      it.e = undefined;
      if (e) this.forget(e.ino, 1);
    }
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
