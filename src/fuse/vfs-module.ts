/**
 * What a tree module served by `mountFuse` exports, and what it is given. The module is imported inside the
 * serving thread, so the tree's JS objects live where the FUSE requests are answered.
 */
import type { TransferListItem } from 'node:worker_threads';
import type { Vfs } from '../kernfs/vfs.js';

/** The serving thread's side of a mount, handed to the tree module's factory. */
export interface VfsEnv {
  /** The doorbell word (see doorbell.ts): `ringDoorbell(doorbell, doorbellIndex)` from any thread. */
  readonly doorbell: SharedArrayBuffer;
  readonly doorbellIndex: number;
  /** Ring the doorbell from this thread (e.g. after queueing work for the next wake-up). */
  ring(): void;
  /** Called on the serving thread after each doorbell ring: re-check state, settle parked Promises, call poll wakes. */
  onWake(listener: () => void): () => void;
  /**
   * Messages from the mounting thread (`FuseMount.post`). Delivered on the serving thread between requests: after
   * each ring (post rings), never while a request is being answered.
   */
  onMessage(listener: (message: unknown) => void): () => void;
  /**
   * Resolves once every cache invalidation reported by the tree so far (its `onChange`) has reached the kernel: after
   * a change made from the tree's side, answer "done" only then, and a `stat` right after sees it.
   */
  invalidationsSent(): Promise<void>;
  /** Send a message to the mounting thread (arrives on `FuseMount.port`). */
  postMessage(message: unknown, transfer?: readonly TransferListItem[]): void;
}

/** The factory a tree module exports as `createVfs` (or as its default export). */
export type VfsFactory = (data: unknown, env: VfsEnv) => Vfs | Promise<Vfs>;
