/** Running `ntrace` commands against a served tree in these tests; every process and mount is gone after the test. */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { isMountPoint } from '../support/mount.js';
import { MAIN, type Started, start } from '../support/process.js';

export { MAIN, ntrace, type Run, type Started, sh, start } from '../support/process.js';

/** A scratch directory others may traverse (sockets are tested by their own modes), with a small events spec. */
export function scratch(t: TestContext): { dir: string; spec: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ntrace-sock-'));
  chmodSync(dir, 0o755);
  t.after(() => {
    for (const d of ['mnt', 'proxy']) if (isMountPoint(join(dir, d))) spawnSync('umount', ['-l', join(dir, d)]);
    rmSync(dir, { recursive: true, force: true });
  });
  mkdirSync(join(dir, 'mnt'));
  mkdirSync(join(dir, 'proxy'));
  const spec = join(dir, 'spec.json');
  writeFileSync(
    spec,
    JSON.stringify({ systems: [{ name: 'app', events: [{ name: 'tick', fields: [{ name: 'n', type: 'u32' }] }] }] }),
  );
  return { dir, spec };
}

/** `ntrace serve` on a FUSE mount and a socket, and `ntrace mount` of that socket (the proxy) beside it. */
export async function serveAndProxy(
  t: TestContext,
): Promise<{ dir: string; mnt: string; proxy: string; sock: string; app: Started; m: Started }> {
  const { dir, spec } = scratch(t);
  const mnt = join(dir, 'mnt');
  const proxy = join(dir, 'proxy');
  const sock = join(dir, 'both.sock');
  const app = await start(
    t,
    [process.execPath, MAIN, 'serve', '--events', spec, '--mount', mnt, '--socket', sock],
    /serving 1 events at .* and /,
  );
  const m = await start(t, [process.execPath, MAIN, 'mount', sock, proxy], /mounted at /);
  return { dir, mnt, proxy, sock, app, m };
}
