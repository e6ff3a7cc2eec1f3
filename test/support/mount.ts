/**
 * Mounting test trees: a unique mountpoint under the OS tmp dir, unmounted and removed after the test whatever
 * happens (t.after), plus helpers to talk to the tree module and to inspect /proc/self/mountinfo.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { type FuseMount, type MountRequest, mountFuse } from '../../src/fuse/index.js';

export const fixtureModule = new URL('../fuse/tree-fixture.js', import.meta.url);

/**
 * A fresh empty directory to mount on. After the test, whatever is still mounted there is detached (a test that
 * failed half-way) and the directories are removed — never recursively, so nothing is deleted through a mount.
 */
export function tempMountpoint(t: TestContext, before?: () => Promise<void>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ntrace-fuse-'));
  chmodSync(dir, 0o755); // tests run commands as other users through the mount
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  t.after(async () => {
    await before?.();
    if (isMountPoint(mnt)) spawnSync('umount', ['-l', mnt]);
    rmdirSync(mnt);
    rmdirSync(dir);
  });
  return mnt;
}

export async function mountForTest(
  t: TestContext,
  req: Omit<MountRequest, 'mountpoint' | 'vfsModule'> & { vfsModule?: string | URL } = {},
): Promise<FuseMount> {
  let mount: FuseMount | undefined;
  const mnt = tempMountpoint(t, () => mount?.close() ?? Promise.resolve());
  mount = await mountFuse({ vfsModule: fixtureModule, ...req, mountpoint: mnt });
  return mount;
}

/** Ask the fixture tree something and wait for its answer on the mount's port. */
export function ask<T>(m: FuseMount, message: { type: string }): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (reply: { type: string }) => {
      if (reply.type !== message.type) return;
      m.port.off('message', onMessage);
      m.port.unref();
      resolve(reply as T);
    };
    m.port.on('message', onMessage);
    m.post(message);
  });
}

/** Is `path` a mount point right now? (mountinfo field 5 is the mount point, with spaces escaped as \040.) */
export function isMountPoint(path: string): boolean {
  const escaped = path.replace(/ /g, '\\040');
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === escaped);
}

/** Poll `check` every 20 ms until it holds or `ms` pass; returns whether it held. */
export async function eventually(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}
