/**
 * How commands end on a signal. The streaming verbs (cat of a pipe file, tail, record) stop what they stream on
 * SIGINT or SIGTERM through an AbortSignal (`abortOnSignals`), then clean up and return.
 *
 * The serving commands (serve, demo) end on SIGINT, SIGTERM or SIGHUP. They catch them from their first line, so a
 * signal that comes while the mount is being made is not lost: the command finishes mounting, unmounts cleanly, and
 * then dies by that same signal, as it would have without a handler (its parent sees a signal death, the shell
 * 128+N). Our handlers go away as soon as the first signal arrives: a second one kills at once by its default action,
 * and the mount's watchdog cleans up.
 */
import { constants } from 'node:os';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface AbortOnSignals {
  /** Aborted by SIGINT, SIGTERM or `abort()`. */
  readonly signal: AbortSignal;
  abort(): void;
  /** Stops listening for the signals (the command has stopped streaming). */
  release(): void;
}

export function abortOnSignals(): AbortOnSignals {
  const controller = new AbortController();
  const abort = () => controller.abort();
  process.on('SIGINT', abort);
  process.on('SIGTERM', abort);
  return {
    signal: controller.signal,
    abort,
    release() {
      process.off('SIGINT', abort);
      process.off('SIGTERM', abort);
    },
  };
}

export interface StopSignals {
  /** Settles with the first signal received. */
  readonly received: Promise<NodeJS.Signals>;
  /** Keep the process alive until a signal (signal listeners do not, and a mount deliberately does not either). */
  keepAlive(): void;
  /** Die by `signal` now that the command has cleaned up. */
  dieBy(signal: NodeJS.Signals): never;
}

export function catchStopSignals(): StopSignals {
  let keepAlive: NodeJS.Timeout | undefined;
  let onSignal: (sig: NodeJS.Signals) => void = () => {};
  const received = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = (sig) => {
      for (const s of STOP_SIGNALS) process.off(s, onSignal);
      clearInterval(keepAlive);
      resolve(sig);
    };
  });
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  return {
    received,
    keepAlive() {
      keepAlive ??= setInterval(() => {}, 1 << 30);
    },
    dieBy(signal) {
      for (const s of STOP_SIGNALS) process.off(s, onSignal);
      process.kill(process.pid, signal);
      // Only if the signal is ignored (a disposition inherited from our parent): exit as a shell would report it.
      process.exit(128 + (constants.signals[signal] ?? 0));
    },
  };
}
