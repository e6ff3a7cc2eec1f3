/**
 * Encoders for the reply structures. Every 64-bit field is written as two 32-bit halves: our numbers are below 2^53,
 * and BigInt conversions on the hot path cost more than the arithmetic.
 */
import type { Attributes, Entry, NodeKind, StatFs } from '../kernfs/vfs.js';
import { ATTR_SIZE, ENTRY_OUT_SIZE } from './protocol.js';

const TWO_32 = 0x1_0000_0000;

export function putU64(view: DataView, off: number, n: number): void {
  view.setUint32(off, n >>> 0, true);
  view.setUint32(off + 4, Math.floor(n / TWO_32) >>> 0, true);
}

export function getU64(view: DataView, off: number): number {
  return view.getUint32(off + 4, true) * TWO_32 + view.getUint32(off, true);
}

/** Writes a millisecond time as (seconds u64 at `secOff`, nanoseconds u32 at `nsecOff`). Negative times clamp to 0. */
function putTime(view: DataView, secOff: number, nsecOff: number, ms: number): void {
  if (!(ms > 0)) ms = 0;
  const sec = Math.floor(ms / 1000);
  let nsec = Math.round((ms - sec * 1000) * 1e6);
  if (nsec > 999_999_999) nsec = 999_999_999;
  putU64(view, secOff, sec);
  view.setUint32(nsecOff, nsec, true);
}

/** A cache timeout in ms as fuse's (u64 seconds, u32 nanoseconds). */
export function putTimeout(view: DataView, secOff: number, nsecOff: number, ms: number): void {
  putTime(view, secOff, nsecOff, ms);
}

/** struct fuse_attr (88 bytes). */
export function putAttr(view: DataView, off: number, a: Attributes): void {
  putU64(view, off, a.ino);
  putU64(view, off + 8, a.size);
  putU64(view, off + 16, Math.ceil(a.size / 512)); // blocks, in 512-byte units as stat(2) reports
  putTime(view, off + 24, off + 48, a.atimeMs);
  putTime(view, off + 32, off + 52, a.mtimeMs);
  putTime(view, off + 40, off + 56, a.ctimeMs);
  view.setUint32(off + 60, a.mode, true);
  view.setUint32(off + 64, a.nlink, true);
  view.setUint32(off + 68, a.uid, true);
  view.setUint32(off + 72, a.gid, true);
  view.setUint32(off + 76, 0, true); // rdev
  view.setUint32(off + 80, 4096, true); // blksize
  view.setUint32(off + 84, 0, true); // flags
}

/** struct fuse_entry_out (128 bytes). */
export function putEntry(view: DataView, off: number, e: Entry): void {
  putU64(view, off, e.ino);
  putU64(view, off + 8, e.generation);
  putTimeout(view, off + 16, off + 32, e.cache.entryValidMs);
  putTimeout(view, off + 24, off + 36, e.cache.attrValidMs);
  putAttr(view, off + 40, e.attr);
}

/** An entry_out of zeros: "no inode" (used for `.`/`..` and vanished names in READDIRPLUS). */
export function putNoEntry(bytes: Uint8Array, off: number): void {
  bytes.fill(0, off, off + ENTRY_OUT_SIZE);
}

/** struct fuse_kstatfs (80 bytes). */
export function putStatFs(view: DataView, off: number, s: StatFs): void {
  putU64(view, off, s.blocks);
  putU64(view, off + 8, s.bfree);
  putU64(view, off + 16, s.bavail);
  putU64(view, off + 24, s.files);
  putU64(view, off + 32, s.ffree);
  view.setUint32(off + 40, s.bsize, true);
  view.setUint32(off + 44, s.namelen, true);
  view.setUint32(off + 48, s.frsize, true);
  for (let i = off + 52; i < off + 80; i += 4) view.setUint32(i, 0, true);
}

/** d_type for a dirent. */
export function direntType(kind: NodeKind): number {
  return kind === 'dir' ? 4 : kind === 'symlink' ? 10 : 8;
}

export { ATTR_SIZE };
