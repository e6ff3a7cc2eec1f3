/** ntrace's public API: typed tracepoints for Node.js applications, and `mount()` to serve them as tracefs. */
// Importing ntrace loads only the engine's application face (trace/app.ts): defining and emitting events. The
// filesystem side (tracefs, FUSE, the socket) loads on the first mount() or mountProblem(), the control plane on the
// first emit that meets a filter or trigger (docs/ARCHITECTURE.md, "What importing ntrace loads").
import type { MountOptions, TracefsMount } from './tracefs/index.js';

export {
  type DefineEventOptions,
  DuplicateEventError,
  defineEvent,
  EventBusyError,
  type EventValues,
  type FieldDeclarations,
  type FieldType,
  type FieldValue,
  setThreadName,
  TraceEvent,
} from './trace/app.js';
export type { MountOptions, ReconfigureOptions, TracefsMount } from './tracefs/index.js';

/** The filesystem side, loaded on first use (importing ntrace loads only the engine's application face). */
const filesystemSide = () =>
  process.getBuiltinModule('node:module').createRequire(import.meta.url)(
    './tracefs/index.js',
  ) as typeof import('./tracefs/index.js');

/**
 * Serves this process's tracefs at `dir` over FUSE and on a unix socket (docs/TRACEFS.md); resolves once it serves.
 * The first call loads the filesystem side.
 */
export async function mount(dir: string, options?: MountOptions): Promise<TracefsMount> {
  return filesystemSide().mount(dir, options);
}

/** Why a mount cannot be made at `dir` here, in words a user can act on; undefined when it looks possible. */
export function mountProblem(dir: string): string | undefined {
  return filesystemSide().mountProblem(dir);
}
