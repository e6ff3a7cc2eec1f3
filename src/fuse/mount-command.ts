/**
 * Attaching a /dev/fuse connection to a directory, and detaching it. As root: mount(8) with the descriptor passed
 * as the child's fd 3, no native code. As anyone else: fusermount3 (setuid), see unprivileged.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface MountFlags {
  readonly fsname: string;
  readonly allowOther: boolean;
  readonly defaultPermissions: boolean;
}

/** The -o options both mount paths share. */
export function commonOptions(flags: MountFlags): string[] {
  const o = ['rootmode=40000', `user_id=${process.getuid?.() ?? 0}`, `group_id=${process.getgid?.() ?? 0}`];
  if (flags.defaultPermissions) o.push('default_permissions');
  if (flags.allowOther) o.push('allow_other');
  return o;
}

export function findExecutable(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function run(
  cmd: string,
  args: string[],
  stdio: (number | 'ignore' | 'pipe')[],
): Promise<{ code: number; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: stdio as never });
    let err = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.stdout?.resume();
    child.on('error', (e) => resolve({ code: -1, err: e.message }));
    child.on('close', (code) => resolve({ code: code ?? -1, err: err.trim() }));
  });
}

/** Root path: `mount -i -t fuse.<subtype> -o fd=3,... <fsname> <mountpoint>` with our descriptor as fd 3. */
export async function mountAsRoot(fd: number, mountpoint: string, flags: MountFlags): Promise<void> {
  const mount = findExecutable('mount');
  if (!mount) throw new Error('cannot mount FUSE: mount(8) not found');
  const options = ['fd=3', ...commonOptions(flags)].join(',');
  // -i: no /sbin/mount.fuse.* helper; the fd is already open and the kernel talks to us directly.
  const r = await run(
    mount,
    ['-i', '-t', 'fuse.ntrace', '-o', options, flags.fsname, mountpoint],
    ['ignore', 'ignore', 'pipe', fd],
  );
  if (r.code !== 0) throw new Error(`cannot mount FUSE at ${mountpoint}: mount exited ${r.code}: ${r.err}`);
}

/** The command that lazily detaches a mount (used by close(), the exit hook and the watchdog). */
export function unmountCommand(mountpoint: string, privileged: boolean): [string, string[]] {
  return privileged ? ['umount', ['-l', '--', mountpoint]] : ['fusermount3', ['-u', '-z', '--', mountpoint]];
}

export async function unmount(mountpoint: string, privileged: boolean): Promise<void> {
  const [cmd, args] = unmountCommand(mountpoint, privileged);
  await run(cmd, args, ['ignore', 'ignore', 'pipe']);
}

export function unmountSync(mountpoint: string, privileged: boolean): void {
  const [cmd, args] = unmountCommand(mountpoint, privileged);
  spawnSync(cmd, args, { stdio: 'ignore', timeout: 5000 });
}
