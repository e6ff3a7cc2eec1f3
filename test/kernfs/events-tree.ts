/**
 * A tree module for mounting: the kernel-sized events tree (from kernel-events.json) under `events/`, served by the
 * FUSE transport in its own thread. Answers {type:'live'} with the tree's live inode count.
 */
import type { VfsEnv } from '../../src/fuse/index.js';
import { createKernfs, type Kernfs } from '../../src/kernfs/index.js';
import { buildEvents, kernelSpec } from './helpers.js';

export function createVfs(_data: unknown, env: VfsEnv): Kernfs {
  const tree = createKernfs({ mode: 0o755 });
  buildEvents(tree, tree.root, kernelSpec());
  env.onMessage((m) => {
    if ((m as { type?: string }).type === 'live') env.postMessage({ type: 'live', n: tree.liveInodes() });
  });
  return tree;
}
