/**
 * trace_pipe: a consuming reader per open (consumption is shared: two readers split the records). An empty pipe
 * answers EAGAIN under O_NONBLOCK; otherwise the read is parked in kernfs (and FUSE) and settled at the next
 * doorbell wake-up that finds data: emitters ring the engine's wake word, which reaches the FUSE doorbell.
 */
import { type FileOps, FsError, O_NONBLOCK, type OpenedFile, POLLIN, POLLRDNORM } from '../kernfs/index.js';
import { ConsumingReader, getOption, instanceClockInNs } from '../trace/engine.js';
import { TracePipeText, traceTextOptions } from '../trace/text/index.js';
import type { PipeWaiter, TraceInstance } from './state.js';

interface PipeState {
  readonly inst: TraceInstance;
  readonly reader: ConsumingReader;
  readonly text: TracePipeText;
  poller: PipeWaiter | undefined;
}

/** What the text of trace/trace_pipe looks like for the instance's current options. */
export function textOptionsOf(inst: TraceInstance) {
  return traceTextOptions((name) => getOption(inst.index, name), instanceClockInNs(inst.index));
}

function stateOf(file: OpenedFile): PipeState {
  return file.priv as PipeState;
}

function readable(st: PipeState): boolean {
  return st.text.hasBuffered || st.reader.hasData();
}

/** Ops of a trace_pipe file; `locate` gives the file's instance and CPU (undefined: all CPUs). */
export function pipeOps(locate: (file: OpenedFile) => { inst: TraceInstance; cpu: number | undefined }): FileOps {
  return Object.freeze({
    stream: true,
    open(file: OpenedFile) {
      const { inst, cpu } = locate(file);
      const reader = new ConsumingReader(inst.index, cpu);
      const text = new TracePipeText(
        () => reader.next(),
        () => textOptionsOf(inst),
      );
      file.priv = { inst, reader, text, poller: undefined } satisfies PipeState;
    },
    read(file: OpenedFile, _offset: number, size: number, ctx) {
      const st = stateOf(file);
      const now = st.text.read(size);
      if (now.length > 0) return now;
      if (file.flags & O_NONBLOCK) throw new FsError('EAGAIN');
      return new Promise<Uint8Array>((resolve, reject) => {
        const waiter: PipeWaiter = {
          file,
          check() {
            const out = st.text.read(size);
            if (out.length > 0) {
              done();
              resolve(out);
              return true;
            }
            st.reader.armWakeup();
            return false;
          },
        };
        const done = (): void => {
          st.inst.waiters.delete(waiter);
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
        // Arm, then look again: a record committed in between has rung already, or is seen here.
        st.reader.armWakeup();
        if (waiter.check()) return;
        st.inst.waiters.add(waiter);
      });
    },
    poll(file: OpenedFile) {
      const st = stateOf(file);
      if (readable(st)) return POLLIN | POLLRDNORM;
      if (!st.poller) {
        const poller: PipeWaiter = {
          file,
          check() {
            if (!readable(st)) {
              st.reader.armWakeup();
              return false;
            }
            st.poller = undefined;
            file.wake();
            return true;
          },
        };
        st.poller = poller;
        st.inst.waiters.add(poller);
      }
      st.reader.armWakeup();
      return readable(st) ? POLLIN | POLLRDNORM : 0;
    },
    release(file: OpenedFile) {
      const st = file.priv as PipeState | undefined;
      if (st?.poller) st.inst.waiters.delete(st.poller);
    },
  } satisfies FileOps);
}

/** Settles the instance's waiters that can go on (called at every doorbell wake-up). */
export function serviceWaiters(inst: TraceInstance): void {
  for (const w of [...inst.waiters]) {
    try {
      if (w.check()) inst.waiters.delete(w);
    } catch {
      inst.waiters.delete(w);
    }
  }
}
