/**
 * per_cpu/cpuN/trace_pipe_raw: consuming reads of whole ring-buffer pages in the kernel's binary layout (what
 * trace-cmd reads). A read of several pages' size gets as many whole pages as fit (the kernel gives one per read(2)
 * and more through splice; through FUSE every read is a round trip, so fewer and larger is what counts). A read
 * smaller than a page gets the rest of that page on the next read. Blocking, EAGAIN and poll are
 * consuming-file.ts's, as trace_pipe's.
 */
import type { OpenedFile } from '../kernfs/index.js';
import { ConsumingReader, hasData, RAW_PAGE_SIZE, RawPageReader } from '../trace/index.js';
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
    take(size, into) {
      if (rest) {
        const out = rest.subarray(0, size);
        rest = out.length < rest.length ? rest.subarray(size) : undefined;
        return out;
      }
      if (into && size >= 2 * RAW_PAGE_SIZE && into.length >= size) {
        // Whole pages written straight into the memory the transport lends for the answer.
        let used = 0;
        while (used + RAW_PAGE_SIZE <= size && pages.next(into, used)) used += RAW_PAGE_SIZE;
        return used > 0 ? into.subarray(0, used) : undefined;
      }
      const page = pages.next();
      if (!page || page.length === 0) return undefined;
      if (page.length > size) {
        rest = page.subarray(size);
        return page.subarray(0, size);
      }
      if (size < 2 * page.length) return page;
      // Whole pages while they fit, copied into one reply.
      const out = new Uint8Array(size - (size % page.length));
      out.set(page);
      let used = page.length;
      while (used + page.length <= out.length) {
        const next = pages.next();
        if (!next || next.length === 0 || used + next.length > out.length) {
          if (next && next.length > 0) rest = next; // cannot happen with equal pages; never lose one
          break;
        }
        out.set(next, used);
        used += next.length;
      }
      return out.subarray(0, used);
    },
    readable: () => rest !== undefined || hasData(inst.index, cpu),
    armWakeup: () => waker.armWakeup(),
  };
});
