/**
 * per_cpu/cpuN/trace_pipe_raw: consuming reads of whole ring-buffer pages in the kernel's binary layout (what
 * trace-cmd reads). A read smaller than a page gets the rest of that page on the next read. Empty: EAGAIN under
 * O_NONBLOCK, otherwise the read is parked until a record arrives, as trace_pipe's.
 */
import { type FileOps, FsError, O_NONBLOCK, type OpenedFile, POLLIN, POLLRDNORM } from '../kernfs/index.js';
import { ConsumingReader, hasData, RawPageReader } from '../trace/engine.js';
import type { CpuDirData, PipeWaiter } from './state.js';

interface RawState {
  readonly dir: CpuDirData;
  readonly pages: RawPageReader;
  /** Only for arming the instance's wake-up (it reads nothing). */
  readonly waker: ConsumingReader;
  rest: Uint8Array | undefined;
  poller: PipeWaiter | undefined;
}

function take(st: RawState, size: number): Uint8Array | undefined {
  let page = st.rest;
  st.rest = undefined;
  page ??= st.pages.next();
  if (!page || page.length === 0) return undefined;
  if (page.length > size) st.rest = page.subarray(size);
  return page.subarray(0, size);
}

export const rawPipeOps: FileOps = Object.freeze({
  stream: true,
  open(file: OpenedFile) {
    const dir = file.node.parent!.priv as CpuDirData;
    file.priv = {
      dir,
      pages: new RawPageReader(dir.inst.index, dir.cpu),
      waker: new ConsumingReader(dir.inst.index, dir.cpu),
      rest: undefined,
      poller: undefined,
    } satisfies RawState;
  },
  read(file: OpenedFile, _offset: number, size: number, ctx) {
    const st = file.priv as RawState;
    const now = take(st, size);
    if (now) return now;
    if (file.flags & O_NONBLOCK) throw new FsError('EAGAIN');
    const inst = st.dir.inst;
    return new Promise<Uint8Array>((resolve, reject) => {
      const waiter: PipeWaiter = {
        file,
        check() {
          const out = take(st, size);
          if (out) {
            done();
            resolve(out);
            return true;
          }
          st.waker.armWakeup();
          return false;
        },
      };
      const done = (): void => {
        inst.waiters.delete(waiter);
        ctx.signal?.removeEventListener('abort', interrupted);
        file.signal.removeEventListener('abort', gone);
      };
      const interrupted = (): void => {
        done();
        reject(new FsError('EINTR'));
      };
      const gone = (): void => {
        done();
        reject(new FsError('ENODEV'));
      };
      ctx.signal?.addEventListener('abort', interrupted, { once: true });
      file.signal.addEventListener('abort', gone, { once: true });
      st.waker.armWakeup();
      if (waiter.check()) return;
      inst.waiters.add(waiter);
    });
  },
  poll(file: OpenedFile) {
    const st = file.priv as RawState;
    const readable = () => st.rest !== undefined || hasData(st.dir.inst.index, st.dir.cpu);
    if (readable()) return POLLIN | POLLRDNORM;
    if (!st.poller) {
      const poller: PipeWaiter = {
        file,
        check() {
          if (!readable()) {
            st.waker.armWakeup();
            return false;
          }
          st.poller = undefined;
          file.wake();
          return true;
        },
      };
      st.poller = poller;
      st.dir.inst.waiters.add(poller);
    }
    st.waker.armWakeup();
    return readable() ? POLLIN | POLLRDNORM : 0;
  },
  release(file: OpenedFile) {
    const st = file.priv as RawState | undefined;
    if (st?.poller) st.dir.inst.waiters.delete(st.poller);
  },
} satisfies FileOps);
