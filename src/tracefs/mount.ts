/**
 * `mount(dir, options)`: serves this process's tracefs at `dir` over FUSE, and on a unix socket (src/socket/). The
 * tree lives in one serving thread that answers both and reads the engine's shared memory, so it answers while the
 * main thread is busy. Without FUSE (no /dev/fuse, no privileges, `fuse: false`) the socket alone is served.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import { type Announced, announce } from '../discovery/index.js';
import { missingRequirements, mountFuse } from '../fuse/index.js';
import { shipOptionsFromEnv } from '../ship/env.js';
import type { ShipOptions } from '../ship/shipper.js';
import { type ShipChild, spawnShipper } from '../ship/spawn.js';
import { hostTree } from '../socket/host.js';
import { listenSocket, type SocketListener } from '../socket/listen.js';
import { sharedHandles } from '../trace/index.js';
import { controlSocketPath, serveControl } from './control-socket.js';
import { MODE_ROOT_DEFAULT } from './modes.js';
import { releaseSocketPath, socketPath } from './socket-path.js';
import type { TreeData, TreeReply, TreeRequest, TreeStats } from './tree-module.js';
import { acquireWakeWord, releaseWakeWord } from './wake-word.js';

export interface MountOptions {
  /** Owner of every file (tracefs's uid= mount option). Default: the calling process's uid (root: 0, as the kernel's). */
  uid?: number;
  /** Group of every file (gid=). Default: the calling process's gid (root: 0). */
  gid?: number;
  /** Permission bits of the mount's root directory (mode=). Default 0o700. */
  mode?: number;
  /** Let users other than the mounting one reach the mount at all (FUSE's allow_other). Default false. */
  allowOther?: boolean;
  /**
   * Listen on a unix socket so `ntrace remount DIR --gid N` can reconfigure this mount (docs/TRACEFS.md). Served by
   * the thread that called mount(). Default false.
   */
  control?: boolean;
  /**
   * Where to serve the tree's socket (src/socket/): a path; `false` for none. Default: `NTRACE_SOCKET`, else
   * `<pid>.sock` in the user's ntrace directory (docs/SOCKET.md). Its group is `gid` when given.
   */
  socket?: string | false;
  /** Mount over FUSE (default true). False, or FUSE unavailable: the socket alone (one stderr line says so). */
  fuse?: boolean;
  /**
   * Ship chosen events to ClickHouse (docs/SHIP.md) from an `ntrace ship` child process reading this tree; mount()
   * resolves once it ships, close() lets it finish. Default: what `NTRACE_CLICKHOUSE` and friends say (none when
   * unset; `false` ignores them).
   */
  ship?: ShipOptions | false;
}

/** What `mount -o remount,...` changes. */
export interface ReconfigureOptions {
  uid?: number;
  gid?: number;
  mode?: number;
}

export interface TracefsMount {
  readonly mountpoint: string;
  /** Whether the tree is mounted at `mountpoint` (false: served on the socket only). */
  readonly fuse: boolean;
  /** The socket the tree is served on, if any. */
  readonly socket: string | undefined;
  /** Like `mount -o remount,gid=N`: every node's group (and/or owner) is reset, explicit chowns included. */
  reconfigure(changes: ReconfigureOptions): Promise<void>;
  /** What the serving thread holds (for tests and benchmarks); `gc` runs a full GC there first (--expose-gc). */
  stats(options?: { gc?: boolean }): Promise<TreeStats>;
  /** Unmounts. Idempotent. */
  close(): Promise<void>;
  /** `await using m = await mount(dir)`: closes at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void>;
  /** Settles when the mount has gone (closed, or its serving thread stopped). */
  readonly closed: Promise<void>;
}

/** Why a mount cannot be made here, in words a user can act on; undefined when it looks possible. */
export function mountProblem(dir: string): string | undefined {
  return fuseProblem() ?? dirProblem(dir);
}

/** Why this process cannot use FUSE at all (as opposed to a problem with the directory): one line per missing piece. */
function fuseProblem(): string | undefined {
  const missing = missingRequirements(process.getuid?.() === 0);
  return missing.length > 0 ? missing.join('\n') : undefined;
}

function dirProblem(dir: string): string | undefined {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTCONN')
      return `a dead FUSE mount is still attached at ${dir}: detach it first (umount -l ${dir}).`;
    if ((err as NodeJS.ErrnoException).code === 'EACCES') return `${dir} cannot be reached by this user.`;
    return `${dir} does not exist: create it first (mkdir -p ${dir}).`;
  }
  if (!st.isDirectory()) return `${dir} is not a directory.`;
  return undefined;
}

function checkId(name: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v < 2 ** 32 - 1))
    throw new RangeError(`ntrace: ${name} must be an integer id, got ${v}`);
}

function checkMode(v: number | undefined): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= 0o7777))
    throw new RangeError(`ntrace: mode must be permission bits (0 to 0o7777), got ${v}`);
}

export async function mount(dir: string, options: MountOptions = {}): Promise<TracefsMount> {
  checkId('uid', options.uid);
  checkId('gid', options.gid);
  checkMode(options.mode);
  const mountpoint = resolve(dir);
  const wantFuse = options.fuse !== false;
  // Without FUSE in this process the socket is served alone; a problem with the directory is still an error.
  const unavailable = wantFuse ? fuseProblem() : undefined;
  if (wantFuse && !unavailable) {
    const problem = dirProblem(mountpoint);
    if (problem) throw new Error(`ntrace: cannot mount at ${mountpoint}: ${problem}`);
  }
  const data: TreeData = {
    engine: sharedHandles(),
    // The calling user's, so a non-root user can use the mount it made; root's is 0, as the kernel's.
    uid: options.uid ?? process.getuid?.() ?? 0,
    gid: options.gid ?? process.getgid?.() ?? 0,
    mode: options.mode ?? MODE_ROOT_DEFAULT,
  };
  // Before the mount exists: afterwards, resolving the mount point would ask our own mount (see serveControl).
  const controlPath = options.control ? controlSocketPath(mountpoint) : undefined;
  const doorbell = acquireWakeWord();
  let listener: SocketListener | undefined;
  let socketFailure: Error | undefined;
  if (options.socket !== false) {
    const path = options.socket ?? socketPath();
    try {
      listener = await listenSocket({ path, gid: options.gid, bell: doorbell });
    } catch (err) {
      socketFailure = err as Error;
    } finally {
      if (options.socket === undefined && !listener) releaseSocketPath(path);
    }
  }
  const treeData = (): { vfsData: TreeData; transferList: MessagePort[] } => {
    if (!listener) return { vfsData: data, transferList: [] };
    const port = listener.attach();
    return { vfsData: { ...data, socket: { port, credentials: listener.credentials } }, transferList: [port] };
  };
  const vfsModule = new URL('./tree-module.js', import.meta.url);
  let host: TreeHost | undefined;
  let fuseFailure = unavailable;
  if (wantFuse && !unavailable) {
    try {
      host = await mountFuse({
        mountpoint,
        vfsModule,
        ...treeData(),
        options: { allowOther: options.allowOther ?? false, fsname: 'ntrace', doorbell, urgent: listener?.urgent },
      });
    } catch (err) {
      const hint =
        process.getuid?.() === 0
          ? ''
          : ' (as a non-root user the mount is made by fusermount3, which must be setuid root and allowed to open /dev/fuse here; running as root always works)';
      fuseFailure = `${(err as Error).message.replace(/\s*\n\s*/g, ' ')}${hint}`; // one line
    }
  }
  const fuse = host !== undefined;
  try {
    if (!host && !listener) {
      throw new Error(
        `ntrace: cannot mount at ${mountpoint}: ${fuseFailure ?? 'FUSE not wanted'}${socketFailure ? `; and no socket: ${socketFailure.message}` : ''}`,
      );
    }
    if (!host) {
      host = await hostTree({ vfsModule, ...treeData(), bell: doorbell });
      if (wantFuse && !process.env.NTRACE_QUIET)
        process.stderr.write(`ntrace: no FUSE mount (${fuseFailure}); serving the socket ${listener!.path} only\n`);
    } else if (socketFailure && !process.env.NTRACE_QUIET) {
      process.stderr.write(`ntrace: no socket (${socketFailure.message}); serving the mount ${mountpoint} only\n`);
    }
  } catch (err) {
    await listener?.close();
    if (listener && options.socket === undefined) releaseSocketPath(listener.path);
    releaseWakeWord();
    throw err;
  }
  const m = new Mounted(host, mountpoint, fuse, listener, options.socket === undefined);
  m.listed = listInIndex(fuse ? mountpoint : undefined, listener?.path);
  if (controlPath && fuse) {
    try {
      m.control = await serveControl(controlPath, mountpoint, (c) => m.reconfigure(c));
    } catch (err) {
      await m.close();
      throw new Error(`ntrace: cannot open the control socket for ${mountpoint}: ${(err as Error).message}`);
    }
  }
  const ship = options.ship ?? shipOptionsFromEnv();
  if (ship) {
    try {
      m.shipper = await spawnShipper(fuse ? mountpoint : (listener?.path ?? mountpoint), ship);
    } catch (err) {
      await m.close();
      throw err;
    }
  }
  return m;
}

/** What serves the tree: a FUSE mount, or the socket-only host (src/socket/host.ts). */
interface TreeHost {
  readonly port: MessagePort;
  post(message: unknown): void;
  close(): Promise<void>;
  readonly closed: Promise<void>;
}

/** Announces the mount in the per-user process index (src/discovery); a process that cannot is still served. */
function listInIndex(mountpoint: string | undefined, socket: string | undefined): Announced | undefined {
  try {
    return announce({ mount: mountpoint, socket });
  } catch {
    return undefined;
  }
}

class Mounted implements TracefsMount {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(reply: TreeReply): void; reject(e: Error): void }>();
  private closing: Promise<void> | undefined;
  private wordReleased = false;
  control: { close(): Promise<void> } | undefined;
  listed: Announced | undefined;
  shipper: ShipChild | undefined;
  readonly closed: Promise<void>;

  constructor(
    private readonly host: TreeHost,
    readonly mountpoint: string,
    readonly fuse: boolean,
    private readonly listener: SocketListener | undefined,
    private readonly ownSocketPath: boolean,
  ) {
    this.closed = host.closed;
    host.port.on('message', (m: TreeReply) => {
      if (m?.type !== 'done') return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.host.port.unref();
      if (m.error) p.reject(new Error(m.error));
      else p.resolve(m);
    });
    host.port.unref();
    void host.closed.then(() => {
      for (const p of this.pending.values()) p.reject(new Error('ntrace: the mount is closed'));
      this.pending.clear();
      this.listed?.remove();
      this.releaseWord();
    });
  }

  get socket(): string | undefined {
    return this.listener?.path;
  }

  async reconfigure(changes: ReconfigureOptions): Promise<void> {
    checkId('uid', changes.uid);
    checkId('gid', changes.gid);
    checkMode(changes.mode);
    await this.ask({ type: 'reconfigure', id: this.nextId++, ...changes });
  }

  async stats(options: { gc?: boolean } = {}): Promise<TreeStats> {
    const reply = await this.ask({ type: 'stats', id: this.nextId++, gc: options.gc === true });
    if (!reply.stats) throw new Error('ntrace: no stats from the serving thread');
    return reply.stats;
  }

  private ask(msg: TreeRequest): Promise<TreeReply> {
    return new Promise<TreeReply>((resolve, reject) => {
      this.pending.set(msg.id, { resolve, reject });
      this.host.port.ref();
      this.host.post(msg);
    });
  }

  // Symbol.asyncDispose exists from Node 20.4 (and `await using` needs it, or a transpiler's polyfill, anyway).
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.shipper?.stop();
      this.listed?.remove();
      await this.control?.close();
      // Free the engine instances made through this mount; a stuck serving thread must not hold up the unmount.
      await Promise.race([
        this.ask({ type: 'release', id: this.nextId++ }).catch(() => {}),
        new Promise((r) => setTimeout(r, 1000).unref()),
      ]);
      await this.listener?.close();
      if (this.listener && this.ownSocketPath) releaseSocketPath(this.listener.path);
      await this.host.close();
      this.releaseWord();
    })();
    return this.closing;
  }

  private releaseWord(): void {
    if (this.wordReleased) return;
    this.wordReleased = true;
    releaseWakeWord();
  }
}
