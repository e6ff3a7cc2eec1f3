/**
 * trace_pipe: a consuming reader per open (consumption is shared: two readers split the records). Blocking,
 * EAGAIN and poll are consuming-file.ts's.
 */
import type { FileOps, OpenedFile } from '../kernfs/index.js';
import { ConsumingReader, getOption, instanceClockInNs, TracePipeText, traceTextOptions } from '../trace/index.js';
import { consumingFileOps } from './consuming-file.js';
import type { TraceInstance } from './state.js';

/** What the text of trace/trace_pipe looks like for the instance's current options. */
export function textOptionsOf(inst: TraceInstance) {
  return traceTextOptions((name) => getOption(inst.index, name), instanceClockInNs(inst.index));
}

/** Ops of a trace_pipe file; `locate` gives the file's instance and CPU (undefined: all CPUs). */
export function pipeOps(locate: (file: OpenedFile) => { inst: TraceInstance; cpu: number | undefined }): FileOps {
  return consumingFileOps((file) => {
    const { inst, cpu } = locate(file);
    const reader = new ConsumingReader(inst.index, cpu, { reuse: true });
    const text = new TracePipeText(
      () => reader.next(),
      () => textOptionsOf(inst),
    );
    return {
      inst,
      take(size, into) {
        const out = text.read(size, into);
        return out.length > 0 ? out : undefined;
      },
      readable: () => text.hasBuffered || reader.hasData(),
      armWakeup: () => reader.armWakeup(),
    };
  });
}
