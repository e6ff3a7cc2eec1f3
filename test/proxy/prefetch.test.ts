/**
 * `ntrace mount`'s prefetch (LISTTREE): listings of directories the kernel has not read yet, and small constant
 * files' bytes, answer the kernel's next READDIR, LOOKUP and OPEN — and never hide a change made on the app's own
 * mount, nor outlive the app.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { serveAndProxy, sh, start } from '../socket/support.js';
import { eventually, isMountPoint } from '../support/mount.js';

test('a prefetched listing still sees a mkdir and an rmdir made on the app own mount', async (t) => {
  const { mnt, proxy } = await serveAndProxy(t);
  // Listing the root lists instances/ too (prefetched, not yet read by the proxy's kernel)…
  assert.match(sh(`ls ${proxy}`).out, /instances/);
  // …then the app's own mount changes it: the change reaches the proxy before its listing is read, within the
  // kernel's caching, not after the prefetch's 5 s.
  assert.equal(sh(`mkdir ${mnt}/instances/pre_a`).code, 0);
  const list = () => sh(`ls -1 ${proxy}/instances`).out;
  assert.ok(await eventually(() => list() === 'pre_a\n', 2000), `the proxy lists: ${JSON.stringify(list())}`);
  // Prefetched again (the listing of instances/ named pre_a and listed it), then removed on the app's mount.
  assert.match(sh(`ls ${proxy}/instances/pre_a`).out, /tracing_on/);
  assert.equal(sh(`ls ${proxy}`).code, 0);
  assert.equal(sh(`rmdir ${mnt}/instances/pre_a`).code, 0);
  assert.ok(await eventually(() => list() === '', 2000), `the proxy lists: ${JSON.stringify(list())}`);
  assert.ok(await eventually(() => sh(`stat ${proxy}/instances/pre_a`).code === 1, 2000));
  // The same tree and ids through the proxy as on the app's mount, walked cold and from the prefetch.
  const walk = (d: string) => sh(`cd ${d} && find . | sort && cat events/*/*/id events/*/*/format`).out;
  assert.equal(walk(proxy), walk(mnt));
});

test('nothing is answered from the prefetch once the app is gone', async (t) => {
  const { dir, proxy, app, m } = await serveAndProxy(t);
  const fifo = join(dir, 'go');
  assert.equal(sh(`mkfifo ${fifo}`).code, 0);
  // A shell inside the proxy whose listing prefetched tick/ (and its id's bytes), waiting until the app is gone.
  const shell = await start(
    t,
    [
      'sh',
      '-c',
      `cd ${proxy}/events/app && ls >/dev/null && echo ready && read x < ${fifo}; cat tick/id; echo "cat: $?"`,
    ],
    /ready/,
  );
  app.child.kill('SIGKILL');
  assert.equal(await m.exited, 3);
  assert.ok(await eventually(() => !isMountPoint(proxy), 5000));
  sh(`echo > ${fifo}`);
  await shell.exited;
  assert.match(shell.out(), /cat: 1/);
  assert.doesNotMatch(shell.out(), /^\d+$/m, 'an id was read after the app went');
  assert.match(shell.err(), /No such device|Transport endpoint is not connected|Input\/output error/);
});
