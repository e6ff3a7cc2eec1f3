/**
 * The watchdog: a tiny detached shell, started BEFORE the mount is made, that cleans up if our process dies at any
 * moment from then on (SIGKILL, a fatal signal, an abort, a crash). It learns of the death two ways:
 * - the pipe from us closes (every thread of the process is gone);
 * - SIGTERM from the kernel when the thread that started it exits (`setpriv --pdeathsig`). This one matters: a
 *   thread that was waiting in a request to our own mount when the server died waits uninterruptibly, the process
 *   never finishes dying and the pipe never closes (issue 16). Only ending the FUSE connection frees it.
 * Then it ends the connection (fusectl abort, see connection-id.ts) so any request in flight fails at once, and
 * detaches the mount (`umount -l`, or `fusermount3 -u -z`) if it is still ours. We tell it, as lines on the pipe:
 * `mounting <ids already at the mount point>` just before mounting, `conn <id>` once the mount exists, and `done` when
 * we have unmounted ourselves (it exits without acting). A death between `mounting` and `conn` may come while the
 * mount command (a child of ours, holding the /dev/fuse descriptor) still runs and mounts after we are gone, so the
 * watchdog then looks for the new mount for up to 3 s.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeSync } from 'node:fs';
import { FUSECTL, mountinfoPath } from './connection-id.js';
import { findExecutable, unmountCommand } from './mount-command.js';

// $1 mount point as mountinfo spells it, $2 1 if root, then the unmount command.
const SCRIPT = `trap : TERM; trap '' INT HUP
echo armed
armed= before= conn=
while IFS= read -r line; do
  case $line in
    done) exit 0 ;;
    mounting*) armed=1 before=\${line#mounting} ;;
    conn\\ *) conn=\${line#conn } ;;
  esac
done
# Each thread of ours that exits sends the parent-death signal again: ignore it from now on (an ignored signal stays
# ignored across exec, so it cannot kill the unmount command either).
trap '' TERM
[ -n "$armed" ] || exit 0
esc=$1 priv=$2; shift 2
top() {
  t=
  while read -r _ _ dev _ mp rest; do
    [ "$mp" = "$esc" ] || continue
    case $rest in *" - fuse.ntrace "*) t=\${dev#0:} ;; esac
  done < /proc/self/mountinfo
}
# Died while the mount command ran: that command holds our /dev/fuse descriptor and may still finish the mount after
# our death (a mount whose server is gone). Watch for it for a while.
n=0
while [ -z "$conn" ] && [ $n -lt 60 ]; do
  top
  case " $before " in *" $t "*) t= ;; esac
  conn=$t
  [ -n "$conn" ] || { sleep 0.05; n=$((n + 1)); }
done
[ -n "$conn" ] || exit 0
abort=${FUSECTL}/$conn/abort
[ -e "$abort" ] || [ "$priv" != 1 ] || mount -t fusectl fusectl ${FUSECTL} 2>/dev/null
[ -e "$abort" ] && echo 1 2>/dev/null > "$abort"
top
[ "$t" = "$conn" ] && exec "$@"
exit 0`;

export class Watchdog {
  private constructor(private readonly child: ChildProcess) {}

  /** Starts it and waits until it is listening (its signal trap set), so no death from here on goes unseen. */
  static async start(mountpoint: string, privileged: boolean): Promise<Watchdog> {
    const [cmd, args] = unmountCommand(mountpoint, privileged);
    const shell = ['/bin/sh', '-c', SCRIPT, 'ntrace-fuse-watchdog', mountinfoPath(mountpoint), privileged ? '1' : '0'];
    const setpriv = findExecutable('setpriv');
    // The parent-death signal is tied to the thread that forks: this one, which lives as long as the process.
    const argv = setpriv ? [setpriv, '--pdeathsig', 'TERM', '--', ...shell] : shell;
    const child = spawn(argv[0], [...argv.slice(1), cmd, ...args], {
      detached: true, // its own process group: a Ctrl-C aimed at us does not reach it
      stdio: ['pipe', 'pipe', 'ignore'],
      cwd: '/',
    });
    child.stdin?.on('error', () => {});
    const armed = await new Promise<boolean>((resolve) => {
      child.stdout!.setEncoding('utf8').once('data', (d: string) => resolve(d.startsWith('armed')));
      child.once('error', () => resolve(false));
      child.once('exit', () => resolve(false));
    });
    if (!armed) throw new Error('FUSE mount: cannot start the watchdog (/bin/sh)');
    child.stdout!.destroy();
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    return new Watchdog(child);
  }

  /** Just before the mount is made: the connections already at the mount point are not ours. */
  mounting(before: readonly number[]): void {
    this.say(`mounting ${before.join(' ')}`);
  }

  /** The mount exists and is served by connection `id`. */
  connected(id: number): void {
    this.say(`conn ${id}`);
  }

  /** The mount is gone by our own hand: let the watchdog exit without acting. */
  dismiss(): void {
    this.say('done');
  }

  /** Synchronous, so it also works from a process 'exit' hook and leaves no window before a death. */
  private say(line: string): void {
    const fd = (this.child.stdin as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) return;
    try {
      writeSync(fd, `${line}\n`);
    } catch {}
  }
}
