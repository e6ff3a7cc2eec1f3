/**
 * The kernel's "busy" files: while one is open in an instance, `rmdir` of the instance answers EBUSY (they hold a
 * reference on the trace array). A table row marks them with `busy: true`; `countBusy` adds the counting to the
 * row's ops without changing what they do.
 */
import type { FileOps, OpenedFile } from '../kernfs/index.js';
import { instanceOf, type TraceInstance } from './state.js';

/** The instance each counted open was charged to (a file's instance cannot change while it is open). */
const charged = new WeakMap<OpenedFile, TraceInstance>();

export function countBusy(ops: FileOps): FileOps {
  const { open, release } = ops;
  return Object.freeze({
    ...ops,
    open(file: OpenedFile, ctx) {
      const r = open?.call(ops, file, ctx);
      const inst = instanceOf(file);
      inst.busy++;
      charged.set(file, inst);
      return r;
    },
    release(file: OpenedFile) {
      const inst = charged.get(file);
      if (inst) inst.busy--;
      release?.call(ops, file);
    },
  } satisfies FileOps);
}
