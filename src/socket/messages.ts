/** What the socket thread (listener-worker.ts) and the tree's thread (dispatcher.ts) tell each other. */
import type { LentFrame } from './reply-slots.js';

/** Socket thread → tree thread: request bodies of connection `c`, or its end. */
export type ToDispatcher = { t: 'req'; c: number; bodies: Uint8Array[] } | { t: 'gone'; c: number };

/**
 * Tree thread → socket thread: frames to send to connection `c` (a READ reply made in lent memory is a `LentFrame`,
 * written from there and its slot freed once the kernel has it), a reason to close it (a bad frame), or the slots of
 * lent memory (once, before the first `LentFrame`).
 */
export type FromDispatcher =
  | { t: 'out'; c: number; frames: (Uint8Array | LentFrame)[] }
  | { t: 'close'; c: number; why: string }
  | { t: 'slots'; buffer: SharedArrayBuffer };
