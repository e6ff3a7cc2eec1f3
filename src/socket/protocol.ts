/**
 * The socket protocol, version 4 (docs/SOCKET.md has the full table). Little-endian throughout.
 *
 * Every frame: u32 length of the body, then the body.
 * - Request body: u32 id (≥ 1, chosen by the client), u8 op, then the op's arguments.
 * - Reply body: u32 id of the request, i32 status (0 = success, > 0 = the errno), then on success the op's result.
 *   Replies come in any order: a read of an empty trace_pipe answers when data arrives, others answer meanwhile.
 * - Notification body: u32 id 0, i32 0, u8 kind, then: kind 1 (a poll armed on fh may have changed readiness): f64 fh;
 *   kind 2 (something a client that WATCHes may have cached changed): u8 0 + f64 ino (an inode), or u8 1 + f64
 *   parent + str name (an entry).
 *
 * Arguments and results are built from u8, u16, u32, f64 (inode numbers, handles, offsets, sizes: exact below
 * 2^53), str (u32 byte length + UTF-8) and bytes (u32 length + data). The first request must be HELLO: the client's
 * newest version in, the version both speak out (EPROTO and the connection closed when there is none).
 */
import type { Attributes, DirEntry, Entry, NodeKind, OpenResult, StatFs } from '../kernfs/vfs.js';

/**
 * The newest version this side speaks. 2: WATCH, NOTIFY_CHANGE, LISTPLUS and FORGETS (so that `ntrace mount` can cache
 * like a direct mount). 3: OPEN_READ (an open and its first read in one trip). 4: LISTTREE (a directory's listing and its descendants' in one
 * trip, with small constant files' bytes).
 */
export const PROTOCOL_VERSION = 4;
/** The oldest version a server still answers: HELLO agrees the lower of the client's and the server's newest. */
export const MIN_PROTOCOL_VERSION = 2;
/** Largest body either side accepts; a longer length prefix ends the connection. */
export const MAX_FRAME = 16 * 1024 * 1024;
export const NOTIFY_ID = 0;
export const NOTIFY_POLL = 1;
export const NOTIFY_CHANGE = 2;
/** NOTIFY_CHANGE's first byte. */
export const CHANGE_INODE = 0;
export const CHANGE_ENTRY = 1;

/** Request op codes. Inode/handle ops mirror the `Vfs` face; path ops do a whole syscall sequence in one trip. */
export const Op = {
  HELLO: 1, // u32 version → u32 version
  LOOKUP: 2, // f64 parent, str name → entry
  FORGET: 3, // f64 ino, f64 n → -
  GETATTR: 4, // f64 ino → attr
  SETATTR: 5, // f64 ino, setattr fields → attr
  ACCESS: 6, // f64 ino, u32 mask → -
  READLINK: 7, // f64 ino → str
  OPEN: 8, // f64 ino, u32 flags → open
  READ: 9, // f64 fh, f64 offset, u32 size → bytes
  WRITE: 10, // f64 fh, f64 offset, bytes → u32 count
  FLUSH: 11, // f64 fh → -
  RELEASE: 12, // f64 fh → -
  POLL: 13, // f64 fh, u8 arm → u32 revents (armed: one NOTIFY_POLL later)
  OPENDIR: 14, // f64 ino → f64 dh
  READDIR: 15, // f64 dh, f64 cookie, u32 maxEntries → u32 n, n × dirent
  RELEASEDIR: 16, // f64 dh → -
  MKDIR: 17, // f64 parent, str name, u32 mode → entry
  RMDIR: 18, // f64 parent, str name → -
  UNLINK: 19, // f64 parent, str name → -
  RENAME: 20, // f64 parent, str name, f64 newParent, str newName, u32 flags → -
  CREATE: 21, // f64 parent, str name, u32 mode, u32 flags → entry, open
  MKNOD: 22, // f64 parent, str name, u32 mode, u32 rdev → entry
  SYMLINK: 23, // f64 parent, str name, str target → entry
  LINK: 24, // f64 ino, f64 newParent, str newName → entry
  STATFS: 25, // f64 ino → statfs
  WATCH: 26, // - → - (from now on, NOTIFY_CHANGE of the inodes this connection holds lookups of, and the root)
  // opendir + readdir from cookie (≤ max entries) + releasedir, and a held lookup of each name but . and ..:
  LISTPLUS: 27, // f64 ino, f64 cookie, u32 max → u8 eof, u32 n, n × (dirent, u8 found, entry if found)
  FORGETS: 28, // u32 n, n × (f64 ino, f64 n) → - (FORGET of many inodes: a kernel forgets in batches)
  // Version 3. OPEN, then — for a read-only open of a file that is neither a stream nor pollable — a READ at offset 0
  // of up to `size` bytes, whose bytes come with the handle (u8 0: no read made, or it failed; the kernel's READ will
  // meet the error):
  OPEN_READ: 29, // f64 ino, u32 flags, u32 size → open, u8 read, bytes if read
  // Version 4. Listings of the directories asked for, then of their subdirectories breadth first, until `budget`
  // names are listed (the first directory always); each name with a held lookup (flag 1) and, for a file of at most
  // `contentMax` bytes whose read-only open is cached (constant content), its bytes (flag 2). Later inos this
  // connection no longer holds are skipped:
  LISTTREE: 30, // u32 budget, u32 contentMax, u32 n, n × f64 ino → u32 m, m × (f64 ino, u8 eof, u32 k, k × (dirent, u8 flags, entry if 1, bytes if 2))
  // Path ops (a path relative to the root; `..` never leaves it).
  READ_FILE: 40, // str path → bytes (open O_RDONLY, read to end of file, release)
  WRITE_FILE: 41, // str path, u32 flags, bytes → u32 count (open, ONE write, flush, release)
  LIST: 42, // str path → u32 n, n × (str name, u8 kind), without . and ..
  STAT: 43, // str path → attr
  MKDIR_PATH: 44, // str path, u32 mode → -
  RMDIR_PATH: 45, // str path → -
  OPEN_PATH: 46, // str path, u32 flags → open (the handle holds the file until RELEASE)
} as const;

export const OP_NAMES = new Map<number, string>(Object.entries(Op).map(([k, v]) => [v, k]));

/** SETATTR's u16 field mask; the fields follow in this order, always present: u32 mode, u32 uid, u32 gid, f64 size, f64 atime, f64 mtime, f64 fh. */
export const SetattrField = {
  MODE: 1,
  UID: 2,
  GID: 4,
  SIZE: 8,
  ATIME: 16,
  MTIME: 32,
  FH: 64,
  ATIME_NOW: 128,
  MTIME_NOW: 256,
} as const;

/** A frame we cannot parse: the connection is closed (never the server). */
export class BadFrame extends Error {}

const KINDS: readonly NodeKind[] = ['dir', 'file', 'symlink'];

export class Writer {
  private buf = Buffer.allocUnsafe(256);
  private view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  private at = 4; // room for the length prefix

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  u8(v: number): this {
    this.room(1);
    this.view.setUint8(this.at, v);
    this.at += 1;
    return this;
  }
  u16(v: number): this {
    this.room(2);
    this.view.setUint16(this.at, v, true);
    this.at += 2;
    return this;
  }
  u32(v: number): this {
    this.room(4);
    this.view.setUint32(this.at, v >>> 0, true);
    this.at += 4;
    return this;
  }
  i32(v: number): this {
    this.room(4);
    this.view.setInt32(this.at, v, true);
    this.at += 4;
    return this;
  }
  f64(v: number): this {
    this.room(8);
    this.view.setFloat64(this.at, v, true);
    this.at += 8;
    return this;
  }
  bytes(v: Uint8Array): this {
    this.u32(v.length);
    this.room(v.length);
    this.buf.set(v, this.at);
    this.at += v.length;
    return this;
  }
  str(v: string): this {
    const n = Buffer.byteLength(v);
    this.u32(n);
    this.room(n);
    this.buf.write(v, this.at, 'utf8');
    this.at += n;
    return this;
  }
  attr(a: Attributes): this {
    return this.f64(a.ino)
      .u8(KINDS.indexOf(a.kind))
      .u32(a.mode)
      .u32(a.nlink)
      .u32(a.uid)
      .u32(a.gid)
      .f64(a.size)
      .f64(a.atimeMs)
      .f64(a.mtimeMs)
      .f64(a.ctimeMs);
  }
  entry(e: Entry): this {
    return this.f64(e.ino).u32(e.generation).attr(e.attr).f64(e.cache.entryValidMs).f64(e.cache.attrValidMs);
  }
  open(o: OpenResult): this {
    return this.f64(o.fh).u8((o.directIo ? 1 : 0) | (o.stream ? 2 : 0) | (o.pollable ? 4 : 0));
  }
  dirent(d: DirEntry): this {
    return this.str(d.name).f64(d.ino).u8(KINDS.indexOf(d.kind)).f64(d.next);
  }
  statfs(s: StatFs): this {
    return this.f64(s.blocks)
      .f64(s.bfree)
      .f64(s.bavail)
      .f64(s.files)
      .f64(s.ffree)
      .f64(s.bsize)
      .f64(s.namelen)
      .f64(s.frsize);
  }

  /** The finished frame (length prefix filled in). */
  frame(): Uint8Array {
    this.view.setUint32(0, this.at - 4, true);
    return this.buf.subarray(0, this.at);
  }
}

export class Reader {
  private readonly view: DataView;
  private at = 0;

  constructor(private readonly body: Uint8Array) {
    this.view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  }

  private need(n: number): number {
    const at = this.at;
    if (at + n > this.body.length) throw new BadFrame('truncated frame');
    this.at += n;
    return at;
  }

  get done(): boolean {
    return this.at === this.body.length;
  }
  u8(): number {
    return this.view.getUint8(this.need(1));
  }
  u16(): number {
    return this.view.getUint16(this.need(2), true);
  }
  u32(): number {
    return this.view.getUint32(this.need(4), true);
  }
  i32(): number {
    return this.view.getInt32(this.need(4), true);
  }
  f64(): number {
    return this.view.getFloat64(this.need(8), true);
  }
  /** A non-negative integer below 2^53 (inode, handle, offset). */
  num(): number {
    const v = this.f64();
    if (!Number.isSafeInteger(v) || v < 0) throw new BadFrame('bad number');
    return v;
  }
  bytes(): Uint8Array {
    const n = this.u32();
    const at = this.need(n);
    return this.body.subarray(at, at + n);
  }
  str(): string {
    return Buffer.from(this.bytes()).toString('utf8');
  }
  kind(): NodeKind {
    const k = KINDS[this.u8()];
    if (!k) throw new BadFrame('bad node kind');
    return k;
  }
  attr(): Attributes {
    return {
      ino: this.f64(),
      kind: this.kind(),
      mode: this.u32(),
      nlink: this.u32(),
      uid: this.u32(),
      gid: this.u32(),
      size: this.f64(),
      atimeMs: this.f64(),
      mtimeMs: this.f64(),
      ctimeMs: this.f64(),
    };
  }
  entry(): Entry {
    const ino = this.f64();
    const generation = this.u32();
    const attr = this.attr();
    return { ino, generation, attr, cache: { entryValidMs: this.f64(), attrValidMs: this.f64() } };
  }
  open(): OpenResult {
    const fh = this.f64();
    const bits = this.u8();
    return { fh, directIo: (bits & 1) !== 0, stream: (bits & 2) !== 0, pollable: (bits & 4) !== 0 };
  }
  dirent(): DirEntry {
    return { name: this.str(), ino: this.f64(), kind: this.kind(), next: this.f64() };
  }
  statfs(): StatFs {
    return {
      blocks: this.f64(),
      bfree: this.f64(),
      bavail: this.f64(),
      files: this.f64(),
      ffree: this.f64(),
      bsize: this.f64(),
      namelen: this.f64(),
      frsize: this.f64(),
    };
  }
}

/**
 * Splits a byte stream into frame bodies; a length above MAX_FRAME is a BadFrame. The pieces of a frame that spans
 * many reads are kept aside and joined once it is complete (joining at every read copied a 1 MiB reply ~16 times).
 */
export class FrameSplitter {
  private pending: Buffer = Buffer.alloc(0);
  /** Pieces of an incomplete frame whose length is known, and the total bytes it needs (prefix included). */
  private parts: Buffer[] = [];
  private partsLength = 0;
  private need = 0;

  /** Feeds `chunk`; returns the complete bodies it finished. */
  push(chunk: Buffer): Buffer[] {
    if (this.need > 0) {
      this.parts.push(chunk);
      this.partsLength += chunk.length;
      if (this.partsLength < this.need) return [];
      chunk = Buffer.concat(this.parts, this.partsLength);
      this.parts = [];
      this.partsLength = 0;
      this.need = 0;
    }
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    while (buf.length >= 4) {
      const len = buf.readUInt32LE(0);
      if (len > MAX_FRAME) throw new BadFrame(`frame of ${len} bytes`);
      if (buf.length < 4 + len) {
        this.need = 4 + len;
        this.parts = [buf];
        this.partsLength = buf.length;
        this.pending = Buffer.alloc(0);
        return out;
      }
      out.push(buf.subarray(4, 4 + len));
      buf = buf.subarray(4 + len);
    }
    this.pending = buf;
    return out;
  }

  get buffered(): number {
    return this.pending.length + this.partsLength;
  }
}
