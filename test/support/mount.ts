/**
 * Mounting test trees: a unique mountpoint under the OS tmp dir, unmounted and removed after the test whatever
 * happens (t.after), plus small helpers to talk to the tree module.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { type FuseMount, type MountRequest, mountFuse } from '../../src/fuse/index.js';

export const fixtureModule = new URL('../fuse/tree-fixture.js', import.meta.url);

export async function mountForTest(
  t: TestContext,
  req: Omit<MountRequest, 'mountpoint' | 'vfsModule'> & { vfsModule?: string | URL } = {},
): Promise<FuseMount> {
  const dir = mkdtempSync(join(tmpdir(), 'ntrace-fuse-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const mnt = join(dir, 'mnt');
  rmSync(mnt, { force: true, recursive: true });
  (await import('node:fs')).mkdirSync(mnt);
  const m = await mountFuse({ vfsModule: fixtureModule, ...req, mountpoint: mnt });
  t.after(() => m.close());
  return m;
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
