/**
 * How the serving commands (serve, demo) end: SIGINT, SIGTERM or SIGHUP. They catch them from their first line, so a
 * signal that comes while the mount is being made is not lost: the command finishes mounting, unmounts cleanly, and
 * then dies by that same signal, as it would have without a handler (its parent sees a signal death, the shell
 * 128+N). Our handlers go away as soon as the first signal arrives: a second one kills at once by its default action,
 * and the mount's watchdog cleans up.
 */
import { constants } from 'node:os';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

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
