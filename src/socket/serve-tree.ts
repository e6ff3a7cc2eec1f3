/**
 * The tree's side of the socket, set up by a tree module in the thread that hosts the tree: requests arrive on a
 * port that the socket thread fills and rings the doorbell for, and are drained at every wake-up — the same wake-ups
 * that settle parked FUSE requests, so one thread answers both transports and a blocked FUSE read never strands a
 * socket request.
 */
import { type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import type { Credentials, Vfs } from '../kernfs/vfs.js';
import { SocketDispatcher } from './dispatcher.js';
import type { ToDispatcher } from './messages.js';

/** What the starting thread hands the tree's thread (structured-cloneable; transfer `port`). */
export interface SocketTreeData {
  readonly port: MessagePort;
  readonly credentials: Credentials;
}

/** Serves `vfs` on the socket whose port is in `data`; `onWake` is the host's wake-up subscription. */
export function serveTreeOnSocket(vfs: Vfs, data: SocketTreeData, onWake: (listener: () => void) => unknown): void {
  const dispatcher = new SocketDispatcher(vfs, data.port, data.credentials);
  const drain = () => {
    for (;;) {
      const m = receiveMessageOnPort(data.port);
      if (!m) return;
      dispatcher.handle(m.message as ToDispatcher);
    }
  };
  onWake(drain);
  drain();
}
