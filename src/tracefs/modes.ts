/** The kernel's default permission bits for tracefs and eventfs nodes. */
export const MODE_ROOT_DEFAULT = 0o700;
/** tracefs directories (instances, options, per_cpu, an instance). */
export const MODE_DIR = 0o750;
/** eventfs directories. */
export const MODE_EVENTFS_DIR = 0o755;
export const MODE_RW = 0o640;
export const MODE_RO = 0o440;
/** trace_marker, trace_marker_raw. */
export const MODE_MARKER = 0o220;
/** free_buffer, inject. */
export const MODE_WO = 0o200;
