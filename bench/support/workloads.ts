/** The shell workloads the metadata benchmarks run against every target (ntrace, the libfuse peer, the kernel). */

/** Where a target's `events/` tree is, and a file listing every file under it (for stat-all). */
export interface WorkloadTarget {
  readonly events: string;
  readonly fileList: string;
}

export type Workload = (t: WorkloadTarget) => string;

/** The tree walks plus `cat` of one file name in every event directory (`id`, `format`…), keyed by workload name. */
export function metadataWorkloads(catFile: string): Record<string, Workload> {
  return {
    find: (t) => `find ${t.events} >/dev/null`,
    'ls-lR': (t) => `ls -lR ${t.events} >/dev/null`,
    'stat-all': (t) => `xargs -a ${t.fileList} stat >/dev/null`,
    [`cat-${catFile}`]: (t) => `cat ${t.events}/*/*/${catFile} >/dev/null`,
  };
}
