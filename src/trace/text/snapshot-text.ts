/** The `snapshot` file's header: the kernel prints a command help instead of the column header when it is empty. */
import { DEFAULT_TRACE_TEXT_OPTIONS, type TraceHeaderInfo, type TraceTextOptions, traceHeader } from './trace-line.js';

const TWO_ANY =
  "#                      (Doesn't have to be '2' works with any number that\n" +
  "#                       is not a '0' or '1')\n";

/** print_snapshot_help(): whether the snapshot buffer is allocated, then the commands of the main or per-CPU file. */
export function snapshotHelpText(allocated: boolean, perCpu = false): string {
  let s = allocated ? '#\n# * Snapshot is allocated *\n#\n' : '#\n# * Snapshot is freed *\n#\n';
  s += '# Snapshot commands:\n';
  if (!perCpu) {
    s +=
      '# echo 0 > snapshot : Clears and frees snapshot buffer\n' +
      '# echo 1 > snapshot : Allocates snapshot buffer, if not already allocated.\n' +
      '#                      Takes a snapshot of the main buffer.\n' +
      '# echo 2 > snapshot : Clears snapshot buffer (but does not allocate or free)\n' +
      TWO_ANY;
  } else {
    s +=
      '# echo 0 > snapshot : Invalid for per_cpu snapshot file.\n' +
      '# echo 1 > snapshot : Allocates snapshot buffer, if not already allocated.\n' +
      '#                      Takes a snapshot of the main buffer for this cpu.\n' +
      "# echo 2 > snapshot : Clears this cpu's snapshot buffer (but does not allocate)\n" +
      TWO_ANY;
  }
  return s;
}

/**
 * The header of a `snapshot` file: like `trace`'s, except that an empty snapshot shows the help text
 * (`# tracer: nop`, `#`, then snapshotHelpText()).
 */
export function snapshotHeader(
  info: TraceHeaderInfo & { readonly allocated: boolean; readonly perCpu?: boolean },
  options: TraceTextOptions = DEFAULT_TRACE_TEXT_OPTIONS,
): string {
  if (info.entries > 0) return traceHeader(info, options);
  return `# tracer: ${info.tracer ?? 'nop'}\n#\n${snapshotHelpText(info.allocated, info.perCpu)}`;
}
