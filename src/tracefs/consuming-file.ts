/**
 * What trace_pipe and trace_pipe_raw share: a consuming read that answers EAGAIN under O_NONBLOCK when empty, or is
 * parked in kernfs (and FUSE) until a doorbell wake-up finds data; and a poll that registers one waiter per open
 * file. Emitters ring the engine's wake word only once armed, so every wait arms before it looks again.
 */
import { type FileOps, FsError, O_NONBLOCK, type OpenedFile, POLLIN, POLLRDNORM } from '../kernfs/index.js';
import type { PipeWaiter, TraceInstance } from './state.js';

/** One open of a consuming file: what it hands out and how it learns that more may come. */
export interface Consumer {
  readonly inst: TraceInstance;
  /**
   * Up to `size` bytes, consumed; undefined when there is nothing now. `into`: memory the transport lends for the
   * answer (kernfs's OpContext.replyBuffer), to write them in rather than in a fresh buffer; keep no view of it.
   */
  take(size: number, into?: Uint8Array): Uint8Array | undefined;
  /** Whether a read would find something (consumes nothing). */
  readable(): boolean;
  /** Asks the emitters to ring the doorbell at their next commit. */
  armWakeup(): void;
}

interface ConsumingState {
  readonly consumer: Consumer;
  poller: PipeWaiter | undefined;
}

/** Ops of a consuming file whose opens get their `Consumer` from `open`. */
export function consumingFileOps(open: (file: OpenedFile) => Consumer): FileOps {
  return Object.freeze({
    stream: true,
    open(file: OpenedFile) {
      file.priv = { consumer: open(file), poller: undefined } satisfies ConsumingState;
    },
    read(file: OpenedFile, _offset: number, size: number, ctx) {
      const c = (file.priv as ConsumingState).consumer;
      const now = c.take(size, ctx.replyBuffer);
      if (now) return now;
      // The flags of this read, as the kernel checks f_flags at read time (fcntl may have set O_NONBLOCK).
      if ((ctx.fileFlags ?? file.flags) & O_NONBLOCK) throw new FsError('EAGAIN');
      return new Promise<Uint8Array>((resolve, reject) => {
        const waiter: PipeWaiter = {
          file,
          check() {
            const out = c.take(size, ctx.replyBuffer);
            if (out) {
              done();
              resolve(out);
              return true;
            }
            c.armWakeup();
            return false;
          },
        };
        const done = (): void => {
          c.inst.waiters.delete(waiter);
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
        c.armWakeup();
        if (waiter.check()) return;
        c.inst.waiters.add(waiter);
      });
    },
    poll(file: OpenedFile) {
      const st = file.priv as ConsumingState;
      const c = st.consumer;
      if (c.readable()) return POLLIN | POLLRDNORM;
      if (!st.poller) {
        const poller: PipeWaiter = {
          file,
          check() {
            if (!c.readable()) {
              c.armWakeup();
              return false;
            }
            st.poller = undefined;
            file.wake();
            return true;
          },
        };
        st.poller = poller;
        c.inst.waiters.add(poller);
      }
      c.armWakeup();
      return c.readable() ? POLLIN | POLLRDNORM : 0;
    },
    release(file: OpenedFile) {
      const st = file.priv as ConsumingState | undefined;
      if (st?.poller) st.consumer.inst.waiters.delete(st.poller);
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
