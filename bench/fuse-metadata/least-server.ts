/**
 * The least a FUSE server written in Node can do per request, for bench/fuse-metadata/floor.ts: one `readSync` of
 * /dev/fuse, the request's unique and a fresh inode number patched into a ready-made reply, one `writeSync`. Every
 * name is a directory that exists, so any path resolves and `stat` works. No tree, no decoding beyond the header:
 * what remains is Node's fs binding and the kernel's round trip — the floor under any JS server, ntrace's included.
 * Runs on its own process's main thread until unmounted (a separate process: its CPU is all its own).
 *
 *   node dist/bench/fuse-metadata/least-server.js <mountpoint>   (root)
 */
import { openSync, readSync, writeSync } from 'node:fs';
import { mountAsRoot } from '../../src/fuse/mount-command.js';
import {
  ATTR_OUT_SIZE,
  ENTRY_OUT_SIZE,
  IN_HEADER_SIZE,
  INIT_OUT_SIZE,
  InitFlag,
  MAX_MINOR,
  Op,
  OUT_HEADER_SIZE,
  PAGE_SIZE,
} from '../../src/fuse/protocol.js';

const MAX_WRITE = 128 * 1024;
const TIMEOUT_S = 3600; // the entry and attribute timeouts of the other servers in the benchmark
const S_IFDIR_755 = 0o040755;
const ENOSYS = 38;

const mountpoint = process.argv[2];
const fd = openSync('/dev/fuse', 'r+');
await mountAsRoot(fd, mountpoint, { fsname: 'least', allowOther: false, defaultPermissions: false });

const request = Buffer.alloc(MAX_WRITE + 2 * PAGE_SIZE);
const req = new DataView(request.buffer, request.byteOffset, request.byteLength);

/** A reply buffer with its header's length filled in. */
function reply(bodySize: number): { bytes: Buffer; view: DataView } {
  const bytes = Buffer.alloc(OUT_HEADER_SIZE + bodySize);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(0, bytes.length, true);
  return { bytes, view };
}

/** struct fuse_attr of a directory at `off`: only ino changes per reply. */
function putDirAttr(view: DataView, off: number): void {
  view.setUint32(off + 60, S_IFDIR_755, true);
  view.setUint32(off + 64, 2, true); // nlink
  view.setUint32(off + 80, PAGE_SIZE, true); // blksize
}

const entry = reply(ENTRY_OUT_SIZE);
entry.view.setUint32(OUT_HEADER_SIZE + 16, TIMEOUT_S, true); // entry_valid
entry.view.setUint32(OUT_HEADER_SIZE + 24, TIMEOUT_S, true); // attr_valid
putDirAttr(entry.view, OUT_HEADER_SIZE + 40);
const attr = reply(ATTR_OUT_SIZE);
attr.view.setUint32(OUT_HEADER_SIZE, TIMEOUT_S, true);
putDirAttr(attr.view, OUT_HEADER_SIZE + 16);
const error = reply(0);
error.view.setInt32(4, -ENOSYS, true);
const init = reply(INIT_OUT_SIZE);

let nextIno = 2;

/** Sends `r` as the answer to the request in `request` (the unique's two halves copied as they came). */
function send(r: { bytes: Buffer; view: DataView }): void {
  r.view.setUint32(8, req.getUint32(8, true), true);
  r.view.setUint32(12, req.getUint32(12, true), true);
  try {
    writeSync(fd, r.bytes, 0, r.bytes.length);
  } catch {
    // the caller was interrupted
  }
}

for (;;) {
  try {
    if (readSync(fd, request, 0, request.length, null) < IN_HEADER_SIZE) continue;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EINTR' || code === 'EAGAIN') continue;
    break; // ENODEV: unmounted
  }
  const opcode = req.getUint32(4, true);
  if (opcode === Op.LOOKUP) {
    const ino = nextIno++;
    entry.view.setUint32(OUT_HEADER_SIZE, ino, true); // nodeid
    entry.view.setUint32(OUT_HEADER_SIZE + 40, ino, true); // attr.ino
    send(entry);
  } else if (opcode === Op.FORGET || opcode === Op.BATCH_FORGET) {
    // no reply
  } else if (opcode === Op.GETATTR) {
    attr.view.setUint32(OUT_HEADER_SIZE + 16, req.getUint32(16, true), true); // attr.ino = nodeid
    send(attr);
  } else if (opcode === Op.INIT) {
    const v = init.view;
    const b = OUT_HEADER_SIZE;
    v.setUint32(b, 7, true);
    v.setUint32(b + 4, Math.min(req.getUint32(IN_HEADER_SIZE + 4, true), MAX_MINOR), true);
    v.setUint32(b + 8, req.getUint32(IN_HEADER_SIZE + 8, true), true); // max_readahead
    v.setUint32(b + 12, InitFlag.MAX_PAGES & req.getUint32(IN_HEADER_SIZE + 12, true), true);
    v.setUint16(b + 16, 16, true); // max_background
    v.setUint16(b + 18, 12, true); // congestion_threshold
    v.setUint32(b + 20, MAX_WRITE, true);
    v.setUint32(b + 24, 1, true); // time_gran
    v.setUint16(b + 28, MAX_WRITE / PAGE_SIZE, true); // max_pages
    send(init);
  } else if (opcode === Op.DESTROY) break;
  else send(error);
}
