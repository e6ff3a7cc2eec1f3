/**
 * What mounting needs on this machine, checked before trying, so a user is told every missing piece at once, one
 * line each, in words they can act on. Root mounts with mount(8) and needs only /dev/fuse. Anyone else goes through
 * fusermount3 (unprivileged.ts): it must be installed and setuid root, it opens /dev/fuse with the caller's own
 * rights (so the device must be readable and writable by them), and python3 (3.9+) relays the descriptor it sends.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { findExecutable } from './mount-command.js';

let python: string | null | undefined;

/** A python3 whose standard library can receive a descriptor (socket.recv_fds, 3.9+); cached. */
export function findPython(): string | undefined {
  if (python === undefined) {
    python = null;
    for (const p of ['/usr/bin/python3', '/usr/local/bin/python3', 'python3']) {
      if (spawnSync(p, ['-c', 'import socket; socket.recv_fds'], { stdio: 'ignore' }).status === 0) {
        python = p;
        break;
      }
    }
  }
  return python ?? undefined;
}

/** One line per missing piece; empty when a mount can be attempted. */
export function missingRequirements(privileged: boolean): string[] {
  if (process.platform !== 'linux') return ['FUSE mounts need Linux.'];
  if (!existsSync('/dev/fuse')) {
    return [
      '/dev/fuse does not exist: load the fuse module (modprobe fuse) or, in a container, pass the device (--device /dev/fuse).',
    ];
  }
  if (privileged) return [];
  const missing: string[] = [];
  const fusermount = findExecutable('fusermount3');
  if (!fusermount) {
    missing.push('fusermount3 is not installed: install the fuse3 package (apt-get install fuse3), or run as root.');
  } else {
    const st = statSync(fusermount);
    if (!((st.mode & 0o4000) !== 0 && st.uid === 0)) {
      missing.push(`${fusermount} is not setuid root: chmod u+s ${fusermount} (distributions install it so).`);
    }
  }
  try {
    accessSync('/dev/fuse', constants.R_OK | constants.W_OK);
  } catch {
    missing.push(
      '/dev/fuse is not readable and writable by this user (fusermount3 opens it with your rights): chmod 666 /dev/fuse, as distributions set it, or run as root.',
    );
  }
  if (!findPython()) {
    missing.push(
      'python3 (3.9 or later) is not installed: it relays the descriptor fusermount3 sends (apt-get install python3).',
    );
  }
  return missing;
}
