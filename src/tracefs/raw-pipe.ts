/**
 * per_cpu/cpuN/trace_pipe_raw: consuming reads of whole ring-buffer pages in the kernel's binary layout (what
 * trace-cmd reads). A read smaller than a page gets the rest of that page on the next read. Blocking, EAGAIN and
 * poll are consuming-file.ts's, as trace_pipe's.
 */
import type { OpenedFile } from '../kernfs/index.js';
import { ConsumingReader, hasData, RawPageReader } from '../trace/engine.js';
import { consumingFileOps } from './consuming-file.js';
import type { CpuDirData } from './state.js';

export const rawPipeOps = consumingFileOps((file: OpenedFile) => {
  const { inst, cpu } = file.node.parent!.priv as CpuDirData;
  const pages = new RawPageReader(inst.index, cpu);
  // Only for arming the instance's wake-up (it reads nothing).
  const waker = new ConsumingReader(inst.index, cpu);
  let rest: Uint8Array | undefined;
  return {
    inst,
    take(size) {
      let page = rest;
      rest = undefined;
      page ??= pages.next();
      if (!page || page.length === 0) return undefined;
      if (page.length > size) rest = page.subarray(size);
      return page.subarray(0, size);
    },
    readable: () => rest !== undefined || hasData(inst.index, cpu),
    armWakeup: () => waker.armWakeup(),
  };
});
