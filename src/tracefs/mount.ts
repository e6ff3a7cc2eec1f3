/**
 * `mount(dir, options)`: serves this process's tracefs at `dir` over FUSE. The tree lives in the FUSE serving
 * thread and reads the engine's shared memory, so the mount answers while the main thread is busy.
 */
// The thread that mounts applies filters and triggers to its own emits, and creates the hist table pool before the
// serving thread exists, so that thread inherits it (docs/CONTROL.md).
import '../trace/control/install.js';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Announced, announce } from '../discovery/index.js';
import { type FuseMount, mountFuse } from '../fuse/index.js';
import { sharedHandles } from '../trace/engine.js';
import { serveControl } from './control-socket.js';
import { MODE_ROOT_DEFAULT } from './modes.js';
import type { TreeData, TreeReply, TreeRequest, TreeStats } from './tree-module.js';
import { acquireWakeWord, releaseWakeWord } from './wake-word.js';

export interface MountOptions {
  /** Owner of every file (tracefs's uid= mount option). Default: 0 (root), as the kernel's. */
  uid?: number;
  /** Group of every file (gid=). Default 0. */
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
}

/** What `mount -o remount,...` changes. */
export interface ReconfigureOptions {
  uid?: number;
  gid?: number;
  mode?: number;
}

export interface TracefsMount {
  readonly mountpoint: string;
  /** Like `mount -o remount,gid=N`: every node's group (and/or owner) is reset, explicit chowns included. */
  reconfigure(changes: ReconfigureOptions): Promise<void>;
  /** What the serving thread holds (for tests and benchmarks); `gc` runs a full GC there first (--expose-gc). */
  stats(options?: { gc?: boolean }): Promise<TreeStats>;
  /** Unmounts. Idempotent. */
  close(): Promise<void>;
  /** Settles when the mount has gone (closed, or its serving thread stopped). */
  readonly closed: Promise<void>;
}

/** Why a mount cannot be made here, in words a user can act on; undefined when it looks possible. */
export function mountProblem(dir: string): string | undefined {
  if (process.platform !== 'linux') return 'ntrace mounts need Linux (FUSE).';
  if (!existsSync('/dev/fuse'))
    return '/dev/fuse does not exist: load the fuse module (modprobe fuse) or, in a container, pass the device (--device /dev/fuse) and the SYS_ADMIN capability.';
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
  if (process.getuid?.() !== 0) {
    const paths = (process.env.PATH ?? '').split(':').filter((p) => p !== '');
    const fusermount = paths.map((p) => `${p}/fusermount3`).find((p) => existsSync(p));
    if (!fusermount)
      return 'not running as root and fusermount3 is not installed: install the fuse3 package (apt-get install fuse3), or run as root.';
    const fm = statSync(fusermount);
    // fusermount3 opens /dev/fuse and mounts for us only when it is setuid root (or we may open the device).
    if (!((fm.mode & 0o4000) !== 0 && fm.uid === 0)) {
      try {
        accessSync('/dev/fuse', constants.R_OK | constants.W_OK);
      } catch {
        return `not running as root, ${fusermount} is not setuid root and /dev/fuse is not open to this user: run as root, or make fusermount3 setuid root (chmod u+s ${fusermount}), as distributions install it.`;
      }
    }
  }
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
  const problem = mountProblem(mountpoint);
  if (problem) throw new Error(`ntrace: cannot mount at ${mountpoint}: ${problem}`);
  const data: TreeData = {
    engine: sharedHandles(),
    uid: options.uid ?? 0,
    gid: options.gid ?? 0,
    mode: options.mode ?? MODE_ROOT_DEFAULT,
  };
  let fuse: FuseMount;
  const doorbell = acquireWakeWord();
  try {
    fuse = await mountFuse({
      mountpoint,
      vfsModule: new URL('./tree-module.js', import.meta.url),
      vfsData: data,
      options: { allowOther: options.allowOther ?? false, fsname: 'ntrace', doorbell },
    });
  } catch (err) {
    releaseWakeWord();
    const hint =
      process.getuid?.() === 0
        ? ''
        : ' (as a non-root user the mount is made by fusermount3, which must be setuid root and allowed to open /dev/fuse here; running as root always works)';
    throw new Error(`ntrace: cannot mount at ${mountpoint}: ${(err as Error).message}${hint}`, { cause: err });
  }
  const m = new Mounted(fuse);
  m.listed = listInIndex(mountpoint);
  if (options.control) {
    try {
      m.control = await serveControl(mountpoint, (c) => m.reconfigure(c));
    } catch (err) {
      await m.close();
      throw new Error(`ntrace: cannot open the control socket for ${mountpoint}: ${(err as Error).message}`);
    }
  }
  return m;
}

/** Announces the mount in the per-user process index (src/discovery); a process that cannot is still served. */
function listInIndex(mountpoint: string): Announced | undefined {
  try {
    return announce({ mount: mountpoint });
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
  readonly closed: Promise<void>;

  constructor(private readonly fuse: FuseMount) {
    this.closed = fuse.closed;
    fuse.port.on('message', (m: TreeReply) => {
      if (m?.type !== 'done') return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.fuse.port.unref();
      if (m.error) p.reject(new Error(m.error));
      else p.resolve(m);
    });
    fuse.port.unref();
    void fuse.closed.then(() => {
      for (const p of this.pending.values()) p.reject(new Error('ntrace: the mount is closed'));
      this.pending.clear();
      this.listed?.remove();
      this.releaseWord();
    });
  }

  get mountpoint(): string {
    return this.fuse.mountpoint;
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
      this.fuse.port.ref();
      this.fuse.post(msg);
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.listed?.remove();
      await this.control?.close();
      // Free the engine instances made through this mount; a stuck serving thread must not hold up the unmount.
      await Promise.race([
        this.ask({ type: 'release', id: this.nextId++ }).catch(() => {}),
        new Promise((r) => setTimeout(r, 1000).unref()),
      ]);
      await this.fuse.close();
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
