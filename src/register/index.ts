/**
 * `node --import ntrace/register app.js`: traces an application without changing it (docs/NODE.md). Importing it
 * is enough; `registered` settles with the mount (main thread) or undefined (worker threads, or no mount possible).
 */
import { register } from './register.js';

export const registered = register();
