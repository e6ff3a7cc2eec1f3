/**
 * Removing an instance a verb made for itself (tail, record, ship). Its files must be closed first, and closing one
 * is not always seen at once: a stream over the socket ends by closing its own connection, which the server handles
 * apart from the request that follows on another connection — so rmdir can meet EBUSY for a moment. It is asked
 * again for up to a second; any other answer (the tree went away, someone removed it) ends the attempt.
 */
import type { TreeClient } from './tree-client.js';

const TRIES = 50;
const PAUSE_MS = 20;

/** Returns true once the instance is gone, false if it is still busy after the retries or the tree refused. */
export async function removeInstance(tree: TreeClient, path: string): Promise<boolean> {
  for (let i = 0; i < TRIES; i++) {
    try {
      await tree.rmdir(path);
      return true;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EBUSY') return false;
      await new Promise((r) => setTimeout(r, PAUSE_MS));
    }
  }
  return false;
}
