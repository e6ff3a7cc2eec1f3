/**
 * Imported for its effect by the package entry (src/index.ts): installs the control plane's hook in the engine of
 * this thread, so filters and triggers set by the filesystem thread apply to this thread's emits. Every thread
 * that imports ntrace (main thread, workers) runs it once. It also makes sure the hist pool exists before any
 * worker is created, so workers inherit it (see pool.ts).
 */
import { setControlHook } from '../emitter.js';
import { histPool } from './pool.js';
import { controlHook } from './runtime.js';

setControlHook(controlHook);
histPool();
