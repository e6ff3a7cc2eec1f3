/** Pointing Debian's trace-cmd at an ntrace mount. */
export { runTraceCmd, traceCmdEnv } from './run.js';
export { ensureShim, ShimError, shimCacheDir } from './shim.js';
