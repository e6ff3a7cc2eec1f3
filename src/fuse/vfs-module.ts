/**
 * What a tree module served by `mountFuse` exports, and what it is given. The module is imported inside the
 * serving thread, so the tree's JS objects live where the FUSE requests are answered.
 */
import { type MessagePort, receiveMessageOnPort, type TransferListItem } from 'node:worker_threads';
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

/**
 * The tree module's `onWake` and `onMessage` listeners, kept by the thread that serves it (the FUSE serving thread,
 * or the socket's host thread when there is no mount). A listener that throws is reported, never lets the others
 * miss their call.
 */
export class TreeListeners {
  private readonly wake = new Set<() => void>();
  private readonly message = new Set<(message: unknown) => void>();

  constructor(private readonly report: (err: unknown) => void) {}

  onWake(listener: () => void): () => void {
    this.wake.add(listener);
    return () => this.wake.delete(listener);
  }

  onMessage(listener: (message: unknown) => void): () => void {
    this.message.add(listener);
    return () => this.message.delete(listener);
  }

  /** Hands every message waiting on `port` to the message listeners. */
  drainMessages(port: MessagePort): void {
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
      for (const l of this.message) this.call(l, m.message);
    }
  }

  /** After a doorbell ring: the messages first, then the wake listeners. */
  woken(port: MessagePort): void {
    this.drainMessages(port);
    for (const l of this.wake) this.call(l, undefined);
  }

  private call(l: (message: unknown) => void, message: unknown): void {
    try {
      l(message);
    } catch (err) {
      this.report(err);
    }
  }
}
