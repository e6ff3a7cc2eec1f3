/**
 * The module the FUSE serving thread imports: builds the tracefs tree there (so its objects live where requests are
 * answered) and keeps it in step with the engine at every doorbell wake-up.
 */
import { getHeapStatistics } from 'node:v8';
import type { VfsEnv } from '../fuse/index.js';
import type { Vfs } from '../kernfs/index.js';
import { attachSharedState, type SharedHandles } from '../trace/engine.js';
import { RefreshingVfs } from './refreshing-vfs.js';
import { Tracefs } from './tracefs.js';

/** What `mount()` hands to the serving thread. */
export interface TreeData {
  readonly engine: SharedHandles;
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
}

/** Messages from the mounting thread, answered with `{ type: 'done', id, error? }`. */
export type TreeRequest =
  | { type: 'reconfigure'; id: number; uid?: number; gid?: number; mode?: number }
  | { type: 'stats'; id: number; gc?: boolean }
  | { type: 'release'; id: number };
export type TreeReply = { type: 'done'; id: number; error?: string; stats?: TreeStats };

/** What the serving thread reports about its tree (tests and benchmarks). */
export interface TreeStats {
  /** Inode objects alive in kernfs (lookups the kernel holds). */
  readonly liveInodes: number;
  /** Instances made with mkdir. */
  readonly instances: number;
  /** Event directories over all instances. */
  readonly eventDirs: number;
  /** The serving thread's V8 heap in use, after a full GC when asked and available (--expose-gc). */
  readonly heapUsedBytes: number;
}

export function createVfs(data: TreeData, env: VfsEnv): Vfs {
  if (!attachSharedState(data.engine)) throw new Error('ntrace: the serving thread cannot attach to the engine');
  const fs = new Tracefs({ uid: data.uid, gid: data.gid, mode: data.mode });
  const flushed = new InvalidationBarrier(env);
  env.onWake(() => {
    fs.onWake();
    flushed.woken();
  });
  env.onMessage((message) => {
    const m = message as TreeRequest;
    if (m?.type !== 'reconfigure' && m?.type !== 'stats' && m?.type !== 'release') return;
    let reply: TreeReply = { type: 'done', id: m.id };
    try {
      if (m.type === 'reconfigure') fs.reconfigure(m);
      else if (m.type === 'release') fs.releaseInstances();
      else reply = { type: 'done', id: m.id, stats: treeStats(fs, m.gc === true) };
    } catch (err) {
      reply = { type: 'done', id: m.id, error: (err as Error).message };
    }
    // After a reconfigure, answer once the kernel has dropped what it cached (a stat right after sees the change).
    if (m.type === 'reconfigure') void flushed.wait().then(() => env.postMessage(reply));
    else env.postMessage(reply);
  });
  return new RefreshingVfs(
    fs.tree,
    () => fs.refresh(),
    // A chown others follow: their cached attributes are invalidated. The reply cannot wait for that: the kernel
    // holds the directory's lock during setattr, and the doorbell's lookup would wait for it.
    (ino) => {
      fs.ownerChanged(ino);
    },
  );
}

/**
 * Waits until cache invalidations queued so far have reached the kernel. The FUSE helper thread writes queued
 * invalidations before each doorbell lookup, so the second wake-up after a ring is certain to come after them
 * (the first may belong to a ring that was already on its way).
 */
class InvalidationBarrier {
  private wakes = 0;
  private readonly waiting: { after: number; resolve: () => void }[] = [];
  constructor(private readonly env: VfsEnv) {}

  wait(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push({ after: this.wakes + 2, resolve });
      this.env.ring();
    });
  }

  woken(): void {
    this.wakes++;
    if (this.waiting.length === 0) return;
    let pending = false;
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const w = this.waiting[i];
      if (this.wakes >= w.after) {
        this.waiting.splice(i, 1);
        w.resolve();
      } else pending = true;
    }
    if (pending) this.env.ring();
  }
}

function treeStats(fs: Tracefs, gc: boolean): TreeStats {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (gc && collect) {
    collect();
    collect();
  }
  let eventDirs = fs.top.events.size;
  for (const inst of fs.instances.values()) eventDirs += inst.events.size;
  return {
    liveInodes: fs.tree.liveInodes(),
    instances: fs.instances.size,
    eventDirs,
    heapUsedBytes: getHeapStatistics().used_heap_size,
  };
}
