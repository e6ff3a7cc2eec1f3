/**
 * The socket thread: accepts connections on the unix socket, cuts the byte streams into frames, hands request
 * bodies to the tree's thread (and rings its doorbell), and writes the replies back. It never touches the tree, so a
 * slow or hostile client costs this thread a closed connection at most.
 */
import { mkdtempSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { chmod, chown } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { type DoorbellWord, ringUrgent } from '../fuse/doorbell.js';
import type { FromDispatcher, ToDispatcher } from './messages.js';
import { BadFrame, FrameSplitter } from './protocol.js';
import { type LentFrame, ReplySlots } from './reply-slots.js';

export interface ListenerData {
  readonly path: string;
  /** Permission bits of the socket file: who may connect (the kernel checks them at connect(2)). */
  readonly mode: number;
  /** Group of the socket file, or -1 to leave it. */
  readonly gid: number;
  readonly bell: DoorbellWord;
  /** Changed before each ring: a client waits for the answer (see ringUrgent). */
  readonly urgent: DoorbellWord;
}

/** Messages from the thread that started the listener. */
export type ToListener = { t: 'attach'; port: MessagePort } | { t: 'stop' };
export type FromListener = { t: 'listening' } | { t: 'failed'; message: string } | { t: 'stopped' };

/** Replies a client leaves unread before this thread stops reading its requests, and then drops it. */
const PAUSE_AT = 8 * 1024 * 1024;
const DROP_AT = 64 * 1024 * 1024;

const data = workerData as ListenerData;
const control = parentPort!;
const conns = new Map<number, Socket>();
/** Per connection, the slots of lent memory its socket is still writing from (freed once, when written or gone). */
const writing = new Map<number, { readonly from: ReplySlots; readonly slots: Set<number> }>();
let nextConn = 1;
let tree: MessagePort | undefined;
/** The tree's lent memory for READ replies (reply-slots.ts), once it has sent it. */
let slots: ReplySlots | undefined;

function toTree(m: ToDispatcher): void {
  tree?.postMessage(m);
  ringUrgent(data.urgent, data.bell);
}

function fromTree(m: FromDispatcher): void {
  if (m.t === 'slots') {
    slots = ReplySlots.attach(m.buffer);
    return;
  }
  const sock = conns.get(m.c);
  if (!sock) {
    if (m.t === 'out') for (const f of m.frames) if (!(f instanceof Uint8Array)) slots?.free(f.slot);
    return;
  }
  if (m.t === 'close') {
    sock.pause(); // nothing more is read from it
    sock.end(() => sock.destroy()); // once the replies before are written…
    setTimeout(() => sock.destroy(), 1000).unref(); // …or a client that reads nothing has had its chance
    return;
  }
  sock.cork();
  for (const f of m.frames) {
    if (f instanceof Uint8Array) sock.write(f);
    else writeLent(m.c, sock, f);
  }
  sock.uncork();
  if (sock.writableLength > DROP_AT) sock.destroy();
  else if (sock.writableLength > PAUSE_AT) sock.pause(); // resumed on 'drain'
}

/** Writes a reply from the tree's lent memory, no copy; its slot is the tree's again once the kernel has the bytes. */
function writeLent(c: number, sock: Socket, f: LentFrame): void {
  const from = slots;
  if (!from) return;
  let held = writing.get(c);
  if (!held) {
    held = { from, slots: new Set() };
    writing.set(c, held);
  }
  const set = held.slots;
  set.add(f.slot);
  sock.write(from.frame(f), () => {
    if (set.delete(f.slot)) from.free(f.slot);
  });
}

/** A connection's end: the slots its socket was still writing from are free (their writes will never finish). */
function freeWriting(c: number): void {
  const held = writing.get(c);
  writing.delete(c);
  if (!held) return;
  for (const slot of held.slots) held.from.free(slot);
  held.slots.clear();
}

const server = createServer({ allowHalfOpen: false }, (sock) => {
  const c = nextConn++;
  conns.set(c, sock);
  const frames = new FrameSplitter();
  sock.on('data', (chunk: Buffer) => {
    let bodies: Buffer[];
    try {
      bodies = frames.push(chunk);
    } catch (err) {
      if (err instanceof BadFrame) sock.destroy();
      return;
    }
    if (bodies.length > 0) toTree({ t: 'req', c, bodies });
  });
  sock.on('drain', () => sock.resume());
  sock.on('error', () => {}); // ECONNRESET and the like: 'close' follows
  sock.on('close', () => {
    conns.delete(c);
    freeWriting(c);
    toTree({ t: 'gone', c });
  });
});

/**
 * Listen on a fresh name in a private directory beside the final path, set the file's mode and group there, then
 * rename it into place: nobody can connect before the permissions are right.
 */
async function listen(): Promise<void> {
  const dir = mkdtempSync(join(dirname(data.path), `.${basename(data.path)}-`));
  const temp = join(dir, 's');
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(temp, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await chmod(temp, data.mode);
    if (data.gid >= 0) await chown(temp, process.getuid?.() ?? 0, data.gid);
    rmSync(data.path, { force: true }); // a socket left by a process that died with this pid
    renameSync(temp, data.path);
  } finally {
    rmSync(temp, { force: true });
    rmdirSync(dir);
  }
}

control.on('message', (m: ToListener) => {
  if (m.t === 'attach') {
    tree?.close();
    tree = m.port;
    tree.on('message', fromTree);
    slots = undefined; // the new tree sends its own
    // Connections made before this tree attached (a FUSE attempt that failed) start over with it.
    for (const sock of conns.values()) sock.destroy();
    return;
  }
  server.close();
  for (const sock of conns.values()) sock.destroy();
  rmSync(data.path, { force: true });
  tree?.close();
  control.postMessage({ t: 'stopped' } satisfies FromListener);
  control.close();
});

listen().then(
  () => control.postMessage({ t: 'listening' } satisfies FromListener),
  (err: unknown) => {
    control.postMessage({ t: 'failed', message: (err as Error).message } satisfies FromListener);
    control.close();
  },
);
