/**
 * `ntrace/worker`: joining a thread to the process's tracing state by hand. Worker threads created after `ntrace`
 * was first imported share it on their own; a thread created earlier (or by a pool that started before ntrace was
 * loaded) is handed the shared buffers explicitly:
 *
 * ```ts
 * // main thread
 * import { sharedHandles } from 'ntrace/worker';
 * worker.postMessage({ ntrace: sharedHandles() });
 *
 * // in the worker, before its first defineEvent/emit
 * import { attachSharedState } from 'ntrace/worker';
 * parentPort.once('message', (m) => {
 *   if (!attachSharedState(m.ntrace)) throw new Error('this thread already traces into other state');
 * });
 * ```
 */
export { attachSharedState, type SharedHandles, sharedHandles } from './trace/app.js';
