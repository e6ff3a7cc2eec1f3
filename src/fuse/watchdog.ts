/**
 * The watchdog: a tiny detached shell that holds nothing but the read end of a pipe from us. If our process dies
 * without saying goodbye (SIGKILL, a crash, a fatal signal), the pipe closes, and the shell lazily unmounts, so no
 * "Transport endpoint is not connected" corpse stays behind. On a clean close we write `done` and it just exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeSync } from 'node:fs';
import { unmountCommand } from './mount-command.js';

const SCRIPT = 'IFS= read -r line; [ "$line" = done ] && exit 0; shift; exec "$@"';

export class Watchdog {
  private constructor(private readonly child: ChildProcess) {}

  static start(mountpoint: string, privileged: boolean): Watchdog {
    const [cmd, args] = unmountCommand(mountpoint, privileged);
    const child = spawn('/bin/sh', ['-c', SCRIPT, 'ntrace-fuse-watchdog', mountpoint, cmd, ...args], {
      detached: true, // its own process group: a Ctrl-C aimed at us does not reach it
      stdio: ['pipe', 'ignore', 'ignore'],
      cwd: '/',
    });
    child.on('error', () => {});
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    child.stdin?.on('error', () => {});
    return new Watchdog(child);
  }

  /** The mount is gone by our own hand: let the watchdog exit without acting. */
  dismiss(): void {
    this.child.stdin?.end('done\n');
  }

  /** Same, from a process 'exit' handler, where asynchronous writes never happen. */
  dismissSync(): void {
    const fd = (this.child.stdin as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd === 'number' && fd >= 0) {
      try {
        writeSync(fd, 'done\n');
      } catch {}
    }
  }
}
