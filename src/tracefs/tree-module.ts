/**
 * The module the FUSE serving thread imports: builds the tracefs tree there (so its objects live where requests are
 * answered) and keeps it in step with the engine at every doorbell wake-up.
 */
import { getHeapStatistics } from 'node:v8';
import type { VfsEnv } from '../fuse/index.js';
import type { Vfs } from '../kernfs/index.js';
import { type SocketTreeData, serveTreeOnSocket } from '../socket/serve-tree.js';
import { attachSharedState, type SharedHandles } from '../trace/index.js';
import { RefreshingVfs } from './refreshing-vfs.js';
import { Tracefs } from './tracefs.js';

/** What `mount()` hands to the serving thread. */
export interface TreeData {
  readonly engine: SharedHandles;
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
  /** The socket's side of the tree (src/socket/), answered from this same thread. */
  readonly socket?: SocketTreeData;
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
  env.onWake(() => fs.onWake());
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
    if (m.type === 'reconfigure') void env.invalidationsSent().then(() => env.postMessage(reply));
    else env.postMessage(reply);
  });
  const vfs = new RefreshingVfs(
    fs.tree,
    () => fs.refresh(),
    // A chown others follow: their cached attributes are invalidated. The reply cannot wait for that: the kernel
    // holds the directory's lock during setattr, and the doorbell's lookup would wait for it.
    (ino) => {
      fs.ownerChanged(ino);
    },
  );
  if (data.socket) serveTreeOnSocket(vfs, data.socket, env.onWake);
  return vfs;
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
