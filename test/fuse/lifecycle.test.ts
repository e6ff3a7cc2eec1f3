/**
 * Lookup counts and the life of a mount: FORGETs bring kernfs's live inodes back after the kernel drops its caches,
 * close() unmounts, and a serving process that exits, is killed (SIGKILL) or terminated (SIGTERM) leaves no mount
 * behind.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { mountFuse } from '../../src/fuse/index.js';
import { ask, eventually, fixtureModule, isMountPoint, mountForTest, tempMountpoint } from '../support/mount.js';

const child = fileURLToPath(new URL('./mount-child.js', import.meta.url));

async function liveInodes(m: Awaited<ReturnType<typeof mountForTest>>): Promise<number> {
  return (await ask<{ n: number }>(m, { type: 'live' })).n;
}

test('FORGETs after drop_caches bring the live inode count back to its start', async (t) => {
  const m = await mountForTest(t);
  const start = await liveInodes(m);
  // ls -lR takes lookups through READDIRPLUS, find and cat through LOOKUP: all must be given back.
  const r = spawnSync('sh', [
    '-c',
    `ls -lR ${m.mountpoint} >/dev/null && find ${m.mountpoint} >/dev/null && cat ${m.mountpoint}/events/*/*/id >/dev/null`,
  ]);
  assert.equal(r.status, 0, String(r.stderr));
  const busy = await liveInodes(m);
  assert.ok(busy > start + 40, `expected the walk to hold many inodes (start ${start}, now ${busy})`);
  const back = await eventually(async () => {
    writeFileSync('/proc/sys/vm/drop_caches', '2');
    return (await liveInodes(m)) === start;
  }, 5000);
  assert.ok(back, `live inodes ${await liveInodes(m)} never came back to ${start}`);
  const s = m.stats().requests;
  assert.ok((s.FORGET ?? 0) + (s.BATCH_FORGET ?? 0) > 0);
});

test('close() unmounts and stops the threads; a second close is a no-op', async (t) => {
  const mnt = tempMountpoint(t);
  const m = await mountFuse({ mountpoint: mnt, vfsModule: fixtureModule });
  assert.ok(isMountPoint(mnt));
  await m.close();
  assert.ok(!isMountPoint(mnt));
  await m.close();
  await m.closed;
});

test('mount errors are clear: missing mountpoint, not a directory, broken tree module', async (t) => {
  const mnt = tempMountpoint(t);
  await assert.rejects(
    mountFuse({ mountpoint: `${mnt}/missing`, vfsModule: fixtureModule }),
    /cannot mount FUSE at .*missing/,
  );
  await assert.rejects(
    mountFuse({ mountpoint: '/etc/hostname', vfsModule: fixtureModule }),
    /cannot mount FUSE at \/etc\/hostname: not a directory/,
  );
  await assert.rejects(
    mountFuse({ mountpoint: mnt, vfsModule: new URL('./tools.test.js', import.meta.url) }),
    /exports no createVfs/,
  );
  assert.ok(!isMountPoint(mnt));
});

for (const how of ['SIGKILL', 'SIGTERM', 'exit', 'drain'] as const) {
  test(`a serving process that ends by ${how} leaves no mount behind`, async (t) => {
    const mnt = tempMountpoint(t);
    const proc = spawn(process.execPath, [child, mnt, how === 'exit' || how === 'drain' ? how : 'wait'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    t.after(() => proc.kill('SIGKILL'));
    const exited = once(proc, 'exit');
    const [line] = await once(proc.stdout!.setEncoding('utf8'), 'data');
    assert.equal(line, 'ready\n');
    assert.ok(isMountPoint(mnt));
    assert.equal(spawnSync('cat', [`${mnt}/hello`], { encoding: 'utf8' }).stdout, 'hello world\n');
    if (how === 'SIGKILL' || how === 'SIGTERM') proc.kill(how);
    await exited;
    // The watchdog (or the exit hook) detaches it; within a second, and never a "not connected" corpse.
    assert.ok(await eventually(() => !isMountPoint(mnt), 1000), 'still mounted a second after the process ended');
  });
}
