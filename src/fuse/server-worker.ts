/**
 * Entry point of the serving thread: builds the tree from the tree module, then runs the FUSE request loop on the
 * /dev/fuse descriptor the mounting thread hands over once the mount exists.
 */
import { closeSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type MessagePort, parentPort, type TransferListItem, workerData } from 'node:worker_threads';
import type { Vfs } from '../kernfs/vfs.js';
import { type DoorbellWord, NOTES_WRITTEN, ringDoorbell, STOPPED } from './doorbell.js';
import { FuseServer, type ServerIO, type ServerOptions } from './server.js';
import { TreeListeners, type VfsEnv, type VfsFactory } from './vfs-module.js';

export interface ServerWorkerData {
  readonly vfsModule: string;
  readonly vfsData: unknown;
  readonly bell: DoorbellWord;
  readonly control: SharedArrayBuffer;
  readonly stats: SharedArrayBuffer;
  readonly userPort: MessagePort;
  readonly options: ServerOptions;
  /** Open /dev/fuse here (root path), so the descriptor belongs to this thread, which also closes it. */
  readonly openDevice: boolean;
}

/** Messages between the mounting thread and this one. */
/** The connection: the /dev/fuse descriptor (root), or the relay's three FIFOs in `dir` (unprivileged.ts). */
export type Connection = { kind: 'device'; fd: number } | { kind: 'relay'; dir: string };
export type ToServer = { type: 'start'; connection: Connection; notePort: MessagePort } | { type: 'abandon' };
export type FromServer =
  | { type: 'loaded'; fd: number }
  | { type: 'initialized'; minor: number; flags: number; noteFd: number }
  | { type: 'stopped' }
  | { type: 'failed'; message: string };

const data = workerData as ServerWorkerData;
const port = parentPort!;
const control = new Int32Array(data.control);
/** Invalidations handed to the helper so far, and who waits for some count of them to be written. */
let notesPosted = 0;
let noteWaiters: { target: number; resolve: () => void }[] = [];

function settleNoteWaiters(): void {
  if (noteWaiters.length === 0) return;
  const written = Atomics.load(control, NOTES_WRITTEN);
  const still = noteWaiters.filter((w) => w.target > written);
  for (const w of noteWaiters) if (w.target <= written) w.resolve();
  noteWaiters = still;
  if (still.length > 0) ringDoorbell(data.bell.buffer, data.bell.index);
}
function reportError(err: unknown): void {
  // A tree module's callback failing must not stop the mount; make it visible instead.
  process.stderr.write(`ntrace fuse: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
}
const listeners = new TreeListeners(reportError);

const env: VfsEnv = {
  doorbell: data.bell.buffer,
  doorbellIndex: data.bell.index,
  ring: () => ringDoorbell(data.bell.buffer, data.bell.index),
  onWake: (listener) => listeners.onWake(listener),
  onMessage: (listener) => listeners.onMessage(listener),
  invalidationsSent() {
    const target = notesPosted;
    if (Atomics.load(control, NOTES_WRITTEN) >= target) return Promise.resolve();
    return new Promise<void>((resolve) => {
      noteWaiters.push({ target, resolve });
      ringDoorbell(data.bell.buffer, data.bell.index);
    });
  },
  postMessage(message, transfer) {
    data.userPort.postMessage(message, transfer as TransferListItem[] | undefined);
  },
};

async function loadTree(): Promise<Vfs> {
  const mod = (await import(data.vfsModule)) as { createVfs?: VfsFactory; default?: VfsFactory };
  const factory = mod.createVfs ?? mod.default;
  if (typeof factory !== 'function') throw new Error(`${data.vfsModule} exports no createVfs (or default) factory`);
  return await factory(data.vfsData, env);
}

/** Open the relay's FIFOs in the order the relay opens its ends (each open waits for the other side). */
function openRelay(dir: string): { io: ServerIO; noteFd: number; fds: number[] } {
  const req = openSync(join(dir, 'requests'), 'r');
  const rep = openSync(join(dir, 'replies'), 'w');
  const note = openSync(join(dir, 'notes'), 'w');
  rmSync(dir, { recursive: true, force: true }); // both sides are open: the names are no longer needed
  return { io: { readFd: req, writeFd: rep, framed: true }, noteFd: note, fds: [req, rep, note] };
}

async function serve(vfs: Vfs, connection: Connection, notePort: MessagePort): Promise<void> {
  let io: ServerIO;
  let noteFd: number;
  let fds: number[];
  if (connection.kind === 'device') {
    io = { readFd: connection.fd, writeFd: connection.fd, framed: false };
    noteFd = connection.fd;
    fds = [connection.fd];
  } else ({ io, noteFd, fds } = openRelay(connection.dir));
  const server = new FuseServer(
    io,
    vfs,
    data.options,
    {
      initialized: (info) => port.postMessage({ type: 'initialized', ...info, noteFd } satisfies FromServer),
      woken: () => {
        settleNoteWaiters();
        listeners.woken(data.userPort);
      },
      notifyOffThread: (message) => {
        notePort.postMessage(message);
        notesPosted++;
        ringDoorbell(data.bell.buffer, data.bell.index); // wakes the helper, which writes it
      },
    },
    data.control,
    data.stats,
  );
  listeners.drainMessages(data.userPort);
  try {
    await server.run();
  } finally {
    // Closing the last reference to the connection aborts it: any request still waiting fails instead of hanging.
    for (const fd of fds) {
      try {
        closeSync(fd);
      } catch {}
    }
    notePort.close();
    Atomics.store(control, STOPPED, 1);
    Atomics.notify(control, STOPPED);
  }
}

try {
  const vfs = await loadTree();
  const fd = data.openDevice ? openSync('/dev/fuse', 'r+') : -1;
  port.postMessage({ type: 'loaded', fd } satisfies FromServer);
  const msg = await new Promise<ToServer>((resolve) => port.once('message', resolve));
  if (msg.type !== 'start' && fd >= 0) closeSync(fd);
  if (msg.type === 'start') {
    await serve(vfs, msg.connection, msg.notePort);
    port.postMessage({ type: 'stopped' } satisfies FromServer);
  }
} catch (err) {
  port.postMessage({
    type: 'failed',
    message: err instanceof Error ? (err.stack ?? err.message) : String(err),
  } satisfies FromServer);
}
data.userPort.close();
