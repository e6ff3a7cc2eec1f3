/**
 * Readers for the request structures (include/uapi/linux/fuse.h), the counterpart of encode.ts: every byte offset
 * of a request lives here, under the name of the kernel's field. The server decodes each request's header once
 * (`load`) and asks for body fields by name; the hot requests (lookup, getattr, forget, open, read, release) read
 * plain numbers, the rare ones get a small object.
 */
import type { AttrChanges } from '../kernfs/vfs.js';
import { getU64 } from './encode.js';
import {
  FATTR_ATIME,
  FATTR_ATIME_NOW,
  FATTR_FH,
  FATTR_GID,
  FATTR_MODE,
  FATTR_MTIME,
  FATTR_MTIME_NOW,
  FATTR_SIZE,
  FATTR_UID,
  IN_HEADER_SIZE,
  WRITE_IN_SIZE,
} from './protocol.js';

/** Where a request's body (the fuse_*_in after fuse_in_header) starts. */
const BODY = IN_HEADER_SIZE;
/** struct fuse_forget_one: nodeid u64, nlookup u64. */
const FORGET_ONE_SIZE = 16;
/** struct fuse_batch_forget_in: count u32, dummy u32. */
const BATCH_FORGET_IN_SIZE = 8;

/** One request in a reused input buffer. `load` decodes its fuse_in_header; the other readers read its body. */
export class Request {
  readonly bytes: Buffer;
  private readonly view: DataView;
  /** fuse_in_header.opcode */
  opcode = 0;
  /** fuse_in_header.unique: the id the reply must carry. */
  unique = 0;
  /** fuse_in_header.nodeid: the inode the request is about (the parent, for name operations). */
  nodeid = 0;
  /** Where this request ends: its header's length, bounded by the bytes actually read. */
  end = 0;

  constructor(size: number) {
    this.bytes = Buffer.allocUnsafe(size);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  /** fuse_in_header.len of the bytes at the start of the buffer (the framed relay reads it before the rest). */
  declaredLength(): number {
    return this.view.getUint32(0, true);
  }

  /** Decode the header of the `n` bytes just read. False if they are too few to be a request. */
  load(n: number): boolean {
    if (n < IN_HEADER_SIZE) return false;
    const v = this.view;
    this.end = Math.min(n, v.getUint32(0, true));
    this.opcode = v.getUint32(4, true);
    this.unique = getU64(v, 8);
    this.nodeid = getU64(v, 16);
    return true;
  }

  // ---- fuse_in_header: the caller ----

  uid(): number {
    return this.view.getUint32(24, true);
  }

  gid(): number {
    return this.view.getUint32(28, true);
  }

  pid(): number {
    return this.view.getUint32(32, true);
  }

  // ---- bodies that are names: LOOKUP, UNLINK, RMDIR ----

  /** The NUL-terminated name the body holds (LOOKUP, UNLINK, RMDIR). */
  name(): string {
    return this.string(BODY);
  }

  // ---- fuse_forget_in, fuse_batch_forget_in ----

  /** fuse_forget_in.nlookup */
  nlookup(): number {
    return getU64(this.view, BODY);
  }

  /** fuse_batch_forget_in.count, bounded by the fuse_forget_one entries the request really holds. */
  forgetCount(): number {
    const room = Math.floor((this.end - BODY - BATCH_FORGET_IN_SIZE) / FORGET_ONE_SIZE);
    return Math.max(0, Math.min(this.view.getUint32(BODY, true), room));
  }

  /** The i-th fuse_forget_one's nodeid. */
  forgetNodeid(i: number): number {
    return getU64(this.view, BODY + BATCH_FORGET_IN_SIZE + i * FORGET_ONE_SIZE);
  }

  /** The i-th fuse_forget_one's nlookup. */
  forgetNlookup(i: number): number {
    return getU64(this.view, BODY + BATCH_FORGET_IN_SIZE + i * FORGET_ONE_SIZE + 8);
  }

  // ---- requests on an open file or directory ----

  /**
   * The handle an open-file request is about: fuse_read_in, fuse_write_in, fuse_release_in, fuse_poll_in and
   * fuse_flush_in all start with `fh` (READDIR uses fuse_read_in, RELEASEDIR fuse_release_in).
   */
  fh(): number {
    return getU64(this.view, BODY);
  }

  /** fuse_read_in.offset / fuse_write_in.offset (READDIR: the cookie to continue from). */
  offset(): number {
    return getU64(this.view, BODY + 8);
  }

  /** fuse_read_in.size / fuse_write_in.size: bytes wanted, or bytes sent. */
  size(): number {
    return this.view.getUint32(BODY + 16, true);
  }

  /** fuse_read_in.flags: the file's f_flags at the time of this READ (O_NONBLOCK may differ from the open's). */
  readFileFlags(): number {
    return this.view.getUint32(BODY + 32, true);
  }

  /** The bytes of a WRITE, copied: the buffer is reused by the next request while the op may still hold them. */
  writeData(): Uint8Array {
    const at = BODY + WRITE_IN_SIZE;
    return Uint8Array.prototype.slice.call(this.bytes, at, Math.min(this.end, at + this.size()));
  }

  /** fuse_open_in.flags: the open(2) flags. */
  openFlags(): number {
    return this.view.getUint32(BODY, true);
  }

  /** fuse_poll_in: the kernel's poll handle `kh` as its two 32-bit halves (echoed back verbatim), and flags. */
  poll(): { fh: number; khLo: number; khHi: number; flags: number } {
    const v = this.view;
    return {
      fh: getU64(v, BODY),
      khLo: v.getUint32(BODY + 8, true),
      khHi: v.getUint32(BODY + 12, true),
      flags: v.getUint32(BODY + 16, true),
    };
  }

  // ---- the rest, one reader per structure ----

  /** fuse_init_in (flags only when the kernel sent them). */
  init(): { major: number; minor: number; maxReadahead: number; flags: number } {
    const v = this.view;
    return {
      major: v.getUint32(BODY, true),
      minor: v.getUint32(BODY + 4, true),
      maxReadahead: v.getUint32(BODY + 8, true),
      flags: this.end >= BODY + 16 ? v.getUint32(BODY + 12, true) : 0,
    };
  }

  /** fuse_setattr_in: the changes its `valid` bits name, and the handle when FATTR_FH says it is given. */
  setattr(): { changes: AttrChanges; fh: number | undefined } {
    const v = this.view;
    const valid = v.getUint32(BODY, true);
    const changes: AttrChanges = {};
    if (valid & FATTR_MODE) changes.mode = v.getUint32(BODY + 68, true);
    if (valid & FATTR_UID) changes.uid = v.getUint32(BODY + 76, true);
    if (valid & FATTR_GID) changes.gid = v.getUint32(BODY + 80, true);
    if (valid & FATTR_SIZE) changes.size = getU64(v, BODY + 16);
    if (valid & FATTR_ATIME_NOW) changes.atimeMs = 'now';
    else if (valid & FATTR_ATIME) changes.atimeMs = this.timeMs(BODY + 32, BODY + 56);
    if (valid & FATTR_MTIME_NOW) changes.mtimeMs = 'now';
    else if (valid & FATTR_MTIME) changes.mtimeMs = this.timeMs(BODY + 40, BODY + 60);
    return { changes, fh: valid & FATTR_FH ? getU64(v, BODY + 8) : undefined };
  }

  /** fuse_mkdir_in (mode, umask) and the name after it. */
  mkdir(): { mode: number; name: string } {
    return { mode: this.view.getUint32(BODY, true), name: this.string(BODY + 8) };
  }

  /** fuse_mknod_in (mode, rdev, umask, padding) and the name after it. */
  mknod(): { mode: number; rdev: number; name: string } {
    const v = this.view;
    return { mode: v.getUint32(BODY, true), rdev: v.getUint32(BODY + 4, true), name: this.string(BODY + 16) };
  }

  /** fuse_create_in (flags, mode, umask, open_flags) and the name after it. */
  create(): { flags: number; mode: number; name: string } {
    const v = this.view;
    return { flags: v.getUint32(BODY, true), mode: v.getUint32(BODY + 4, true), name: this.string(BODY + 16) };
  }

  /** SYMLINK's body: the new name, then the target, both NUL-terminated. */
  symlink(): { name: string; target: string } {
    const nul = this.nulFrom(BODY);
    return { name: this.bytes.toString('utf8', BODY, nul), target: this.string(nul + 1) };
  }

  /** fuse_link_in.oldnodeid and the new name after it. */
  link(): { oldIno: number; name: string } {
    return { oldIno: getU64(this.view, BODY), name: this.string(BODY + 8) };
  }

  /** fuse_rename_in (newdir) or fuse_rename2_in (newdir, flags, padding), then the old and the new name. */
  rename(two: boolean): { newDir: number; flags: number; oldName: string; newName: string } {
    const v = this.view;
    const namesAt = BODY + (two ? 16 : 8);
    const nul = this.nulFrom(namesAt);
    return {
      newDir: getU64(v, BODY),
      flags: two ? v.getUint32(BODY + 8, true) : 0,
      oldName: this.bytes.toString('utf8', namesAt, nul),
      newName: this.string(nul + 1),
    };
  }

  /** fuse_access_in.mask */
  accessMask(): number {
    return this.view.getUint32(BODY, true);
  }

  /** fuse_interrupt_in.unique: the request to interrupt. */
  interruptedUnique(): number {
    return getU64(this.view, BODY);
  }

  // ---- helpers ----

  /** A NUL-terminated string at `at`, cut at the request's end if the NUL is missing. */
  private string(at: number): string {
    return this.bytes.toString('utf8', at, this.nulFrom(at));
  }

  private nulFrom(at: number): number {
    const nul = this.bytes.indexOf(0, at);
    return nul < 0 || nul > this.end ? this.end : nul;
  }

  /** A (u64 seconds, u32 nanoseconds) time as milliseconds. */
  private timeMs(secAt: number, nsecAt: number): number {
    return getU64(this.view, secAt) * 1000 + this.view.getUint32(nsecAt, true) / 1e6;
  }
}
