/** `node --require ntrace/register app.js`: the same as --import, for CommonJS setups (the package is ESM). */
import type { TracefsMount } from '../tracefs/index.js';

/** Settles with the mount (main thread) or undefined (worker threads, or no mount possible). */
const registered: Promise<TracefsMount | undefined> = import('./index.js').then(
  (m) => m.registered,
  () => undefined,
);

export = { registered };
