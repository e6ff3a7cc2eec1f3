/**
 * Which FUSE connection serves a mount point, and ending it from outside. The kernel names each connection in the
 * fusectl filesystem (/sys/fs/fuse/connections/N) by its superblock's device number; FUSE superblocks are anonymous
 * devices (major 0), so N is the minor shown as `0:N` in /proc/self/mountinfo. Writing to N/abort fails every
 * request still waiting for an answer at once — the only way, besides `umount -f`, to free a thread stuck in a request
 * that a dead server had already read (the kernel waits for that answer uninterruptibly).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const FUSECTL = '/sys/fs/fuse/connections';

/** A mount point as mountinfo spells it (octal escapes for space, tab, newline and backslash). */
export function mountinfoPath(path: string): string {
  return path.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** Connection numbers of the fuse.ntrace mounts at `mountpoint`, bottom to top. */
export function connectionsAt(mountpoint: string): number[] {
  const want = mountinfoPath(mountpoint);
  const ids: number[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f[4] !== want) continue;
    const dash = f.indexOf('-', 6);
    if (dash < 0 || f[dash + 1] !== 'fuse.ntrace') continue;
    const [major, minor] = f[2].split(':').map(Number);
    if (major === 0 && Number.isInteger(minor)) ids.push(minor);
  }
  return ids;
}

/** The connection of the mount just made at `mountpoint`: the topmost one that was not there `before`. */
export function newConnectionAt(mountpoint: string, before: readonly number[]): number | undefined {
  return connectionsAt(mountpoint)
    .filter((id) => !before.includes(id))
    .pop();
}

/**
 * End connection `id` (synchronously). Root mounts fusectl where the kernel expects it if nobody has (systemd does
 * at boot; containers often do not). fusectl's files belong to the mount's owner, so a non-root user may abort its
 * own connections when fusectl is mounted. Returns whether the abort was written.
 */
export function abortConnection(id: number): boolean {
  const file = `${FUSECTL}/${id}/abort`;
  if (!existsSync(file) && process.getuid?.() === 0 && existsSync(FUSECTL)) {
    spawnSync('mount', ['-t', 'fusectl', 'fusectl', FUSECTL], { stdio: 'ignore', timeout: 5000 });
  }
  try {
    writeFileSync(file, '1');
    return true;
  } catch {
    return false;
  }
}
