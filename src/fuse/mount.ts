/**
 * Mount a kernfs tree over FUSE. The tree module is imported in a dedicated serving thread that answers the kernel
 * with blocking reads and writes of /dev/fuse, so the mount keeps working while this thread is busy or blocked.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort, type TransferListItem, Worker } from 'node:worker_threads';
import { Attachment } from './attachment.js';
import { createControl, type DoorbellWord, OWN_RING, ringDoorbell } from './doorbell.js';
import type { HelperWorkerData } from './helper-worker.js';
import { type MountFlags, mountAsRoot } from './mount-command.js';
import { OPCODE_SLOTS, Op } from './protocol.js';
import { missingRequirements } from './requirements.js';
import { type ServerOptions, STAT_PARKED, STAT_SLOTS, STAT_WAKES } from './server.js';
import type { Connection, FromServer, ServerWorkerData, ToServer } from './server-worker.js';
import { mountUnprivileged, type UnprivilegedMount } from './unprivileged.js';

export interface FuseMountOptions {
  /** Let other users reach the mount (needs root or `user_allow_other` in /etc/fuse.conf). Default false. */
  allowOther?: boolean;
  /** Let the kernel check permissions from the mode bits (default true); kernfs's own checks still apply. */
  defaultPermissions?: boolean;
  /** Source name shown in /proc/mounts (the type is always `fuse.ntrace`). Default `ntrace`. */
  fsname?: string;
  /** Largest write the kernel sends in one request. Default 128 KiB. */
  maxWrite?: number;
  /** Kernel caching of directory listings, invalidated on kernfs changes. Default true. */
  dirCache?: boolean;
  /** Attribute timeout for the root directory (other inodes use their Entry's hints). Default 1000 ms. */
  rootAttrValidMs?: number;
  /** Mount through fusermount3 even as root (how non-root users mount). Default: only when not root. */
  unprivileged?: boolean;
  /**
   * Use this word as the doorbell instead of a fresh one: e.g. a word the trace engine's emitters already ring, so
   * they wake the mount directly. Default: a word of the mount's own.
   */
  doorbell?: DoorbellWord;
  /**
   * A word that senders waiting for an answer (socket requests) change before they ring (`ringUrgent`): such rings
   * wake the server at once, not after the gap that batches a steady stream of rings. Default: none.
   */
  urgent?: DoorbellWord;
}

export interface MountRequest {
  /** An existing, empty directory. */
  mountpoint: string;
  /**
   * Module exporting `createVfs(data, env)` (or a default export of that shape), imported in the serving thread: a
   * URL, or a file path (relative to the working directory).
   */
  vfsModule: string | URL;
  /** Passed to the factory; must be structured-cloneable (SharedArrayBuffers are shared, not copied). */
  vfsData?: unknown;
  /** Transferables inside vfsData (MessagePorts, ArrayBuffers to move). */
  transferList?: readonly TransferListItem[];
  options?: FuseMountOptions;
}

export interface FuseStats {
  /** Requests received, by opcode name. */
  readonly requests: Readonly<Record<string, number>>;
  /** Doorbell wake-ups that reached the server. */
  readonly wakes: number;
  /** Requests that were parked (their op returned a Promise). */
  readonly parked: number;
}

export interface FuseMount {
  readonly mountpoint: string;
  /** Ring with `ringDoorbell(doorbell, doorbellIndex)` from any thread to wake the serving thread. */
  readonly doorbell: SharedArrayBuffer;
  readonly doorbellIndex: number;
  ring(): void;
  /** Message the tree module (its `env.onMessage`); rings the doorbell so it is delivered promptly. */
  post(message: unknown, transfer?: readonly TransferListItem[]): void;
  /** Messages the tree module sends with `env.postMessage`. */
  readonly port: MessagePort;
  stats(): FuseStats;
  /** Unmount and stop the serving thread. Idempotent. */
  close(): Promise<void>;
  /** Settles when the serving thread has stopped, for whatever reason. */
  readonly closed: Promise<void>;
}

const OP_NAMES = new Map<number, string>(Object.entries(Op).map(([k, v]) => [v, k]));

export async function mountFuse(req: MountRequest): Promise<FuseMount> {
  const opts = req.options ?? {};
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(req.mountpoint);
  } catch (err) {
    throw new Error(`cannot mount FUSE at ${req.mountpoint}: ${(err as Error).message}`);
  }
  if (!st.isDirectory()) throw new Error(`cannot mount FUSE at ${req.mountpoint}: not a directory`);
  const privileged = process.getuid?.() === 0 && !opts.unprivileged;
  const missing = missingRequirements(privileged);
  if (missing.length > 0) throw new Error(`cannot mount FUSE at ${req.mountpoint}:\n  ${missing.join('\n  ')}`);
  const flags: MountFlags = {
    fsname: opts.fsname ?? 'ntrace',
    allowOther: opts.allowOther ?? false,
    defaultPermissions: opts.defaultPermissions ?? true,
  };
  const serverOptions: ServerOptions = {
    maxWrite: opts.maxWrite ?? 128 * 1024,
    rootAttrValidMs: opts.rootAttrValidMs ?? 1000,
    dirCache: opts.dirCache ?? true,
  };

  const control = createControl();
  const bell: DoorbellWord = opts.doorbell ?? { buffer: control, index: OWN_RING };
  if (
    !(bell.buffer instanceof SharedArrayBuffer) ||
    !Number.isInteger(bell.index) ||
    bell.index < 0 ||
    bell.index * 4 >= bell.buffer.byteLength
  ) {
    throw new Error('FUSE mount: options.doorbell must name an Int32 word inside a SharedArrayBuffer');
  }
  const stats = new SharedArrayBuffer(STAT_SLOTS * 8);
  const user = new MessageChannel();
  const workerData: ServerWorkerData = {
    vfsModule: moduleUrl(req.vfsModule),
    vfsData: req.vfsData,
    bell,
    control,
    stats,
    userPort: user.port2,
    options: serverOptions,
    openDevice: privileged,
  };
  const server = new Worker(new URL('./server-worker.js', import.meta.url), {
    workerData,
    transferList: [user.port2, ...(req.transferList ?? [])] as never,
    // Our own threads: not the application's, so they do not load what --import/--require load into its workers.
    execArgv: [],
    stdout: false,
    stderr: false,
  });
  const events = new ServerEvents(server);
  // The watchdog is armed before the mount exists (while the tree loads), so no death from here on leaves a mount.
  const ring = () => ringDoorbell(bell.buffer, bell.index);
  const attaching = Attachment.arm(req.mountpoint, privileged, control, ring);
  let fd: number;
  let attachment: Attachment;
  try {
    [fd, attachment] = await Promise.all([events.next('loaded').then((m) => m.fd), attaching]);
  } catch (err) {
    await server.terminate();
    (await attaching.catch(() => undefined))?.finish();
    throw err;
  }

  // The tree exists: attach the connection.
  let relay: UnprivilegedMount | undefined;
  let connection: Connection;
  try {
    attachment.mounting();
    if (privileged) {
      await mountAsRoot(fd, req.mountpoint, flags);
      connection = { kind: 'device', fd };
    } else {
      relay = await mountUnprivileged(req.mountpoint, flags);
      connection = { kind: 'relay', dir: relay.fifoDir };
    }
    attachment.attached();
  } catch (err) {
    server.postMessage({ type: 'abandon' } satisfies ToServer); // it closes the descriptor and exits
    await events.exited;
    attachment.finish();
    throw err;
  }

  const notes = new MessageChannel();
  server.postMessage({ type: 'start', connection, notePort: notes.port1 } satisfies ToServer, [notes.port1]);
  const fail = async (err: unknown): Promise<never> => {
    attachment.closeSync();
    await server.terminate();
    await relay?.close();
    throw err;
  };
  let noteFd = -1;
  try {
    noteFd = (await withTimeout(events.next('initialized'), 10_000, "the kernel's INIT request")).noteFd;
  } catch (err) {
    await fail(err);
  }
  // The helper opens the mount's root itself: no other thread of this process touches the mount (issue 16).
  const helperData: HelperWorkerData = {
    fd: noteFd,
    bell,
    urgent: opts.urgent,
    control,
    mountpoint: req.mountpoint,
    notePort: notes.port2,
  };
  const helper = new Worker(new URL('./helper-worker.js', import.meta.url), {
    workerData: helperData,
    transferList: [notes.port2] as never,
    execArgv: [],
  });
  attachment.helperRunning = true;
  await new Promise<void>((resolve, reject) => {
    helper.once('message', (m: { failed?: string }) =>
      m.failed ? reject(new Error(`cannot open ${req.mountpoint}: ${m.failed}`)) : resolve(),
    );
    helper.once('error', reject);
  }).catch(async (err) => {
    await helper.terminate();
    attachment.helperRunning = false;
    await fail(err);
  });
  helper.unref();
  // A mount does not keep the process alive by itself: the exit hook unmounts when the application is done.
  server.unref();
  return new LiveMount(req.mountpoint, bell, stats, user.port1, server, helper, attachment, events, relay);
}

/** The tree module as a URL the serving thread can import: a plain path is taken relative to the working directory. */
function moduleUrl(m: string | URL): string {
  if (m instanceof URL) return m.href;
  return /^[a-z][a-z0-9+.-]*:/i.test(m) ? m : pathToFileURL(resolve(m)).href;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`FUSE mount: timed out waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Ordered messages from the server worker, awaited by type; failure or exit rejects. */
class ServerEvents {
  private readonly seen: FromServer[] = [];
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;
  readonly exited: Promise<void>;

  constructor(worker: Worker) {
    worker.on('message', (m: FromServer) => {
      if (m.type === 'failed') this.failure = new Error(`FUSE serving thread failed: ${m.message}`);
      else this.seen.push(m);
      this.waiter?.();
    });
    worker.on('error', (e) => {
      this.failure ??= e;
      this.waiter?.();
    });
    this.exited = new Promise((resolve) =>
      worker.on('exit', () => {
        this.failure ??= new Error('FUSE serving thread exited');
        this.waiter?.();
        resolve();
      }),
    );
  }

  async next<K extends FromServer['type']>(type: K): Promise<Extract<FromServer, { type: K }>> {
    for (;;) {
      const i = this.seen.findIndex((m) => m.type === type);
      if (i >= 0) return this.seen.splice(i, 1)[0] as Extract<FromServer, { type: K }>;
      if (this.failure) throw this.failure;
      await new Promise<void>((r) => {
        this.waiter = r;
      });
    }
  }
}

class LiveMount implements FuseMount {
  private closing: Promise<void> | undefined;
  readonly closed: Promise<void>;

  constructor(
    readonly mountpoint: string,
    private readonly bell: DoorbellWord,
    private readonly statsBuf: SharedArrayBuffer,
    readonly port: MessagePort,
    private readonly server: Worker,
    private readonly helper: Worker,
    private readonly attachment: Attachment,
    events: ServerEvents,
    private readonly relay: UnprivilegedMount | undefined,
  ) {
    this.port.unref();
    this.closed = events.exited;
    // If the serving thread dies on its own, do not leave a mount nobody answers.
    void events.exited.then(() => {
      if (!this.closing) void this.close();
    });
  }

  get doorbell(): SharedArrayBuffer {
    return this.bell.buffer;
  }

  get doorbellIndex(): number {
    return this.bell.index;
  }

  ring(): void {
    ringDoorbell(this.bell.buffer, this.bell.index);
  }

  post(message: unknown, transfer?: readonly TransferListItem[]): void {
    this.port.postMessage(message, transfer as TransferListItem[] | undefined);
    this.ring();
  }

  stats(): FuseStats {
    const s = new Float64Array(this.statsBuf);
    const requests: Record<string, number> = {};
    for (let i = 0; i < OPCODE_SLOTS; i++) if (s[i] > 0) requests[OP_NAMES.get(i) ?? `op${i}`] = s[i];
    return { requests, wakes: s[STAT_WAKES], parked: s[STAT_PARKED] };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.server.ref();
    // Detach first (the server still answers whatever umount asks), then stop the threads: the helper's last lookup
    // through its open root reaches the server even though the mount is detached, and it then sees STOP.
    await this.attachment.detach();
    this.attachment.stop();
    const within = (ms: number) =>
      Promise.race([this.closed, new Promise((r) => setTimeout(r, ms).unref())]).then(() => this.attachment.stopped);
    // A server stuck in a tree callback: end the connection, which also frees the helper's lookup.
    if (!(await within(5000))) this.attachment.abort();
    await this.server.terminate(); // no-op if it has exited; ends a thread stuck in a tree callback otherwise
    await this.helper.terminate();
    await this.relay?.close();
    this.attachment.finish();
    this.port.close();
  }
}
