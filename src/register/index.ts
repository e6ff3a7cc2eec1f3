/**
 * `node --import ntrace/register app.js`: traces an application without changing it (docs/NODE.md). Importing it
 * is enough; `registered` settles with the mount (main thread) or undefined (worker threads, or no mount possible).
 */
import { isMainThread } from 'node:worker_threads';
import { register } from './register.js';

export const registered = register();
// In a worker thread its script runs only once Node's events are set up there, so its first request is seen.
if (!isMainThread) await registered;
