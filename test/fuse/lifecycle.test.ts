/**
 * Lookup counts and the life of a mount: FORGETs bring kernfs's live inodes back after the kernel drops its caches,
 * close() unmounts, and a serving process that exits, is killed (SIGKILL) or terminated (SIGTERM) leaves no mount
 * behind.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { mountFuse } from '../../src/fuse/index.js';
import { exitWithin, forceEnd } from '../support/kill.js';
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

for (const how of ['SIGKILL', 'SIGTERM', 'SIGINT', 'exit', 'drain'] as const) {
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
    if (how.startsWith('SIG')) proc.kill(how as NodeJS.Signals);
    await exited;
    if (how === 'exit' || how === 'drain') {
      // The exit hook unmounted before the process was gone.
      assert.ok(!isMountPoint(mnt), 'still mounted after a normal exit');
    } else {
      // Killed: the watchdog detaches it within a second; never a "not connected" corpse.
      assert.ok(await eventually(() => !isMountPoint(mnt), 1000), 'still mounted a second after the process died');
    }
  });
}

test('a process killed while one of its threads waits in a request to its own mount ends at once (issue 16)', async (t) => {
  // The child reads `stall` through its own mount from a libuv pool thread; the serving thread holds that request
  // when the kill comes. The kernel then waits for the answer uninterruptibly, so the process cannot finish dying
  // until something ends the FUSE connection: the watchdog must.
  const mnt = tempMountpoint(t, () => forceEnd(mnt, proc));
  const proc = spawn(process.execPath, [child, mnt, 'stall'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const out = proc.stdout!.setEncoding('utf8');
  let seen = '';
  out.on('data', (d: string) => {
    seen += d;
  });
  assert.ok(await eventually(() => seen.includes('stalling'), 20_000), `child said: ${seen}`);
  proc.kill('SIGKILL');
  const ended = await exitWithin(proc, 3000);
  if (!ended) await forceEnd(mnt, proc);
  assert.ok(ended, 'the killed process hung in a request to its own mount');
  assert.equal(ended.signal, 'SIGKILL');
  assert.ok(await eventually(() => !isMountPoint(mnt), 1000), 'still mounted a second after the process died');
});

/** Run mount-child.js in `self` mode as nobody; with `openDevice`, in a private mount namespace where /dev/fuse is 0666. */
function runAsNobody(mnt: string, openDevice: boolean): ReturnType<typeof spawnSync> {
  const asNobody = [
    'setpriv',
    '--reuid=nobody',
    '--regid=nogroup',
    '--clear-groups',
    process.execPath,
    child,
    mnt,
    'self',
  ];
  if (!openDevice) return spawnSync(asNobody[0], asNobody.slice(1), { encoding: 'utf8', timeout: 30_000 });
  // This machine's /dev/fuse is root-only: give the child a world-usable copy of the device node, bind-mounted over
  // /dev/fuse in a mount namespace of its own (gone when it exits). fusermount3 itself is the real, setuid one.
  const node = join(dirname(mnt), 'fuse-dev');
  const script = `cp -a /dev/fuse ${node} && chmod 666 ${node} && mount --bind ${node} /dev/fuse && exec "$@"`;
  try {
    return spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', ...asNobody], {
      encoding: 'utf8',
      timeout: 30_000,
    });
  } finally {
    rmSync(node, { force: true });
  }
}

const devFuseIsWorldUsable = (statSync('/dev/fuse').mode & 0o006) === 0o006;

test('a non-root user mounts through fusermount3 and the mount works', async (t) => {
  const mnt = tempMountpoint(t);
  spawnSync('chown', ['nobody:nogroup', mnt]);
  const r = runAsNobody(mnt, !devFuseIsWorldUsable);
  assert.equal(r.status, 0, String(r.stderr));
  const [ready, json] = String(r.stdout).trim().split('\n');
  assert.equal(ready, 'ready');
  const seen = JSON.parse(json) as { mountinfo: string; cat: string; write: string; pipe: string };
  assert.match(seen.mountinfo, / fuse\.ntrace ntrace /);
  assert.match(seen.mountinfo, /user_id=65534/);
  assert.equal(seen.cat, 'hello world\n3\n');
  assert.equal(seen.write, 'hi\n');
  assert.equal(seen.pipe, 'rung');
  assert.ok(await eventually(() => !isMountPoint(mnt), 1000));
});

test('a non-root user who cannot use /dev/fuse gets a clear error', {
  skip: devFuseIsWorldUsable && '/dev/fuse is usable by everyone here',
}, async (t) => {
  const mnt = tempMountpoint(t);
  spawnSync('chown', ['nobody:nogroup', mnt]);
  const r = runAsNobody(mnt, false);
  assert.notEqual(r.status, 0);
  assert.match(
    String(r.stderr),
    /cannot mount FUSE at .*:\n {2}\/dev\/fuse is not readable and writable by this user \(fusermount3 opens it with your rights\)/,
  );
  assert.ok(!isMountPoint(mnt));
});

test('as root, the fusermount3 path can be chosen explicitly', async (t) => {
  const m = await mountForTest(t, { options: { unprivileged: true } });
  assert.equal(spawnSync('cat', [`${m.mountpoint}/hello`], { encoding: 'utf8' }).stdout, 'hello world\n');
  m.post({ type: 'push', text: 'ok' });
  assert.equal(
    spawnSync('head', ['-c', '2', `${m.mountpoint}/pipe`], { encoding: 'utf8', timeout: 5000 }).stdout,
    'ok',
  );
});
