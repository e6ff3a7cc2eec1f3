/**
 * Notification messages the server sends unasked (unique 0, the notify code in the error field): poll wake-ups and
 * cache invalidations. Each is one complete write to /dev/fuse.
 */
import { putU64 } from './encode.js';
import { Notify, OUT_HEADER_SIZE } from './protocol.js';

function message(code: number, bodySize: number): { msg: Buffer; view: DataView } {
  const msg = Buffer.alloc(OUT_HEADER_SIZE + bodySize);
  const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  view.setUint32(0, msg.length, true);
  view.setInt32(4, code, true);
  return { msg, view };
}

/** NOTIFY_POLL for the kernel's poll handle `kh` (kept as its two 32-bit halves, exactly as received). */
export function pollWakeup(khLo: number, khHi: number): Buffer {
  const { msg, view } = message(Notify.POLL, 8);
  view.setUint32(OUT_HEADER_SIZE, khLo, true);
  view.setUint32(OUT_HEADER_SIZE + 4, khHi, true);
  return msg;
}

/** NOTIFY_INVAL_INODE, offset 0 length 0: the attributes and every cached page (file content or listing). */
export function invalInode(ino: number): Buffer {
  const { msg, view } = message(Notify.INVAL_INODE, 24);
  putU64(view, OUT_HEADER_SIZE, ino);
  return msg;
}

/** NOTIFY_INVAL_ENTRY: the name `name` under `parent` (and the parent's attributes). */
export function invalEntry(parent: number, name: string): Buffer {
  const bytes = Buffer.from(name, 'utf8');
  const { msg, view } = message(Notify.INVAL_ENTRY, 16 + bytes.length + 1);
  putU64(view, OUT_HEADER_SIZE, parent);
  view.setUint32(OUT_HEADER_SIZE + 8, bytes.length, true);
  bytes.copy(msg, OUT_HEADER_SIZE + 16);
  return msg;
}
