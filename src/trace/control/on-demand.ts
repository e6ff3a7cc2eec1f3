/**
 * Installs the control plane's hook in this thread's engine without loading the control plane: the hook in place
 * loads it on the first emit that needs it — an (instance, event) with a filter or triggers — synchronously
 * (`require` of an ES module, Node >= 20.19), so that very emit is filtered and fires its triggers, and then hands
 * over to the real hook (runtime.ts). Importing ntrace thus costs no parsing of the languages until someone writes a
 * filter or trigger. Imported for its effect by the engine's faces (app.ts, index.ts): every thread that imports
 * ntrace (main thread, workers) or serves the tree runs it once.
 */
import { type ControlHook, setControlHook } from '../emitter.js';
import { IE_ENABLED } from '../shared-state.js';

const loadOnFirstUse: ControlHook = (instance, ev, state, values) => {
  let hook: ControlHook;
  try {
    const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);
    hook = (require('./runtime.js') as typeof import('./runtime.js')).controlHook;
  } catch (err) {
    // A Node without require(esm): this thread records as if no filter or trigger were set, and says so once.
    setControlHook(undefined);
    process.emitWarning(`ntrace: filters and triggers cannot apply in this thread (${(err as Error).message})`);
    return (state & IE_ENABLED) !== 0;
  }
  setControlHook(hook);
  return hook(instance, ev, state, values);
};

setControlHook(loadOnFirstUse);
