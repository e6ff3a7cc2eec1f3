/** What the socket thread (listener-worker.ts) and the tree's thread (dispatcher.ts) tell each other. */

/** Socket thread → tree thread: request bodies of connection `c`, or its end. */
export type ToDispatcher = { t: 'req'; c: number; bodies: Uint8Array[] } | { t: 'gone'; c: number };

/** Tree thread → socket thread: frames to send to connection `c`, or a reason to close it (a bad frame). */
export type FromDispatcher = { t: 'out'; c: number; frames: Uint8Array[] } | { t: 'close'; c: number; why: string };
