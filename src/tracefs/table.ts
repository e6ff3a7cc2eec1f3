/**
 * One row shape for every tracefs and eventfs table — `{ name, mode, ops, busy?, when? }` — and the one function
 * that turns rows into a kernfs template table. A row is everything a file is.
 */
import { canRead, type FileOps, FsError, type TemplateFileSpec, type TemplateTable } from '../kernfs/index.js';
import { countBusy } from './busy.js';

export interface FileRow<D> {
  readonly name: string;
  /** Permission bits. */
  readonly mode: number;
  readonly ops: FileOps;
  /** While the file is open, rmdir of its instance answers EBUSY (the kernel's trace_array reference). */
  readonly busy?: boolean;
  /** Whether the file exists in a directory of this data (default: in every one). Cheap and pure: runs per lookup. */
  readonly when?: (data: D) => boolean;
}

export function fileTable<D>(rows: readonly FileRow<D>[]): TemplateTable<D> {
  return Object.freeze(
    rows.map((row) => {
      const spec: TemplateFileSpec = Object.freeze({
        mode: row.mode,
        ops: withoutAccessCheck(row.busy ? countBusy(row.ops) : row.ops),
      });
      const when = row.when;
      return Object.freeze({
        name: row.name,
        callback: when ? (_name: string, data: D) => (when(data) ? spec : null) : () => spec,
      });
    }),
  );
}

const invalid = (): never => {
  throw new FsError('EINVAL');
};

/**
 * tracefs, unlike kernfs (sysfs), lets any open the mode bits allow succeed: root, whom the mode bits do not stop,
 * may open a write-only file for reading or a read-only file for writing, and the read or write then answers
 * EINVAL (the VFS's answer for a file without the handler). Everyone else meets the mode bits (EACCES) at open.
 */
function withoutAccessCheck(ops: FileOps): FileOps {
  const readable = canRead(ops);
  const writable = ops.write !== undefined;
  if (readable && writable) return ops;
  return Object.freeze({ ...ops, ...(readable ? {} : { read: invalid }), ...(writable ? {} : { write: invalid }) });
}
