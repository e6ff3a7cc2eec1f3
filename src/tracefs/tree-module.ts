/**
 * The module the FUSE serving thread imports: builds the tracefs tree there (so its objects live where requests are
 * answered) and keeps it in step with the engine at every doorbell wake-up.
 */
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
export type TreeRequest = { type: 'reconfigure'; id: number; uid?: number; gid?: number; mode?: number };
export type TreeReply = { type: 'done'; id: number; error?: string };

export function createVfs(data: TreeData, env: VfsEnv): Vfs {
  if (!attachSharedState(data.engine)) throw new Error('ntrace: the serving thread cannot attach to the engine');
  const fs = new Tracefs({ uid: data.uid, gid: data.gid, mode: data.mode });
  env.onWake(() => fs.onWake());
  env.onMessage((message) => {
    const m = message as TreeRequest;
    if (m?.type !== 'reconfigure') return;
    let reply: TreeReply = { type: 'done', id: m.id };
    try {
      fs.reconfigure(m);
    } catch (err) {
      reply = { type: 'done', id: m.id, error: (err as Error).message };
    }
    env.postMessage(reply);
  });
  return new RefreshingVfs(fs.tree, () => fs.refresh());
}
