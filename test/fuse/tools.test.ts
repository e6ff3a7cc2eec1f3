/**
 * The fixture tree mounted for real and used with the ordinary tools: ls, stat, find, cat, echo, chmod, chown,
 * mkdir/rmdir, touch, mv.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ask, mountForTest } from '../support/mount.js';
import { sh } from '../support/process.js';

test('ls -l, stat, find and cat see the tree', async (t) => {
  const m = await mountForTest(t);
  const mnt = m.mountpoint;

  const ls = sh(`ls -l ${mnt}`);
  assert.equal(ls.code, 0, ls.err);
  assert.match(ls.out, /^-r--r--r-- 1 root root +0 .* hello$/m);
  assert.match(ls.out, /^-rw-r--r-- 1 root root +0 .* rw$/m);
  assert.match(ls.out, /^lrwxrwxrwx 1 root root +12 .* link -> dir\/sub\/leaf$/m);
  assert.match(ls.out, /^drwxr-xr-x \d+ root root +0 .* events$/m);

  const st = sh(`stat -c '%F %a %s %u:%g' ${mnt}/hello ${mnt}/dir ${mnt}/events/sys1/ev2/id`);
  assert.equal(st.code, 0, st.err);
  assert.deepEqual(st.out.trim().split('\n'), [
    'regular empty file 444 0 0:0',
    'directory 755 0 0:0',
    'regular empty file 444 0 0:0',
  ]);

  const find = sh(`cd ${mnt} && find . | sort`);
  assert.equal(find.code, 0, find.err);
  const paths = find.out.trim().split('\n');
  assert.ok(paths.includes('./dir/sub/leaf'));
  assert.ok(paths.includes('./events/sys2/ev3/format'));
  // 3 systems × 4 events × 3 files, plus the dirs: template files are listed like any file.
  assert.equal(paths.filter((p) => /^\.\/events\/sys\d\/ev\d\/\w+$/.test(p)).length, 36);

  assert.equal(sh(`cat ${mnt}/hello`).out, 'hello world\n');
  assert.equal(sh(`cat ${mnt}/events/sys0/ev1/id`).out, '2\n');
  assert.equal(sh(`cat ${mnt}/events/*/*/id | wc -l`).out.trim(), '12');
  assert.equal(readFileSync(join(mnt, 'dir/sub/leaf'), 'utf8'), 'leaf\n');
  assert.deepEqual(readdirSync(join(mnt, 'events/sys0/ev0')).sort(), ['enable', 'format', 'id']);

  const missing = sh(`cat ${mnt}/nope`);
  assert.notEqual(missing.code, 0);
  assert.match(missing.err, /No such file or directory/);
});

test('echo > writes (O_TRUNC reaches the file), >> appends, bad input gets its errno', async (t) => {
  const m = await mountForTest(t);
  const mnt = m.mountpoint;
  assert.equal(sh(`cat ${mnt}/rw`).out, 'initial\n');
  assert.equal(sh(`echo one > ${mnt}/rw`).code, 0);
  assert.equal(sh(`cat ${mnt}/rw`).out, 'one\n');
  assert.equal(sh(`echo two >> ${mnt}/rw`).code, 0);
  assert.equal(sh(`cat ${mnt}/rw`).out, 'one\ntwo\n');

  assert.equal(sh(`echo 1 > ${mnt}/events/sys0/ev0/enable`).code, 0);
  assert.equal(sh(`cat ${mnt}/events/sys0/ev0/enable`).out, '1\n');
  const bad = sh(`/bin/echo bogus > ${mnt}/events/sys0/ev0/enable`); // coreutils echo reports the errno
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /Invalid argument/);
});

test('large reads and writes cross request boundaries intact', async (t) => {
  const m = await mountForTest(t);
  const mnt = m.mountpoint;
  const big = readFileSync(join(mnt, 'big'));
  assert.equal(big.length, 300 * 1024);
  assert.ok(big.equals(Buffer.alloc(300 * 1024, 'abcdefghijklmnopqrstuvwxyz0123456789\n')));
  assert.equal(
    sh(`dd if=${mnt}/big bs=1M 2>/dev/null | md5sum`).out,
    sh(`head -c ${300 * 1024} ${mnt}/big | md5sum`).out,
  );
  // 200 KiB in one write(2): the kernel splits it into max_write (128 KiB) WRITE requests.
  const payload = `${'x'.repeat(200 * 1024 - 1)}\n`;
  writeFileSync(join(mnt, 'rw'), payload);
  assert.equal(readFileSync(join(mnt, 'rw'), 'utf8'), payload);
  assert.ok((m.stats().requests.WRITE ?? 0) >= 2);
});

test('a constant file has its real size and is read from the page cache; a generated one is read fresh', async (t) => {
  const m = await mountForTest(t);
  const mnt = m.mountpoint;
  const content = 'the same for the life of the node\n';
  assert.equal(sh(`stat -c %s ${mnt}/constant`).out.trim(), String(content.length));
  assert.equal(statSync(join(mnt, 'constant')).size, content.length);
  assert.equal(readFileSync(join(mnt, 'constant'), 'utf8'), content);
  const reads = () => m.stats().requests.READ ?? 0;
  const before = reads();
  for (let i = 0; i < 5; i++) assert.equal(sh(`cat ${mnt}/constant`).out, content);
  assert.equal(reads(), before, 'warm cats of a constant file send no READ');
  // A generated file keeps size 0 and direct I/O: every cat reaches the tree and sees what was last written.
  assert.equal(sh(`stat -c %s ${mnt}/rw`).out.trim(), '0');
  for (const value of ['one\n', 'two, longer\n', '3\n']) {
    const r0 = reads();
    writeFileSync(join(mnt, 'rw'), value);
    assert.equal(sh(`cat ${mnt}/rw`).out, value);
    assert.ok(reads() > r0, 'a generated file is read through the server');
  }
});

test('chmod and chown change what stat shows, at once', async (t) => {
  const m = await mountForTest(t);
  const mnt = m.mountpoint;
  assert.equal(sh(`chmod 600 ${mnt}/rw`).code, 0);
  assert.equal(sh(`stat -c %a ${mnt}/rw`).out.trim(), '600');
  assert.equal(sh(`chown 65534:65534 ${mnt}/rw`).code, 0);
  assert.equal(sh(`stat -c %u:%g ${mnt}/rw`).out.trim(), '65534:65534');
  assert.equal(statSync(join(mnt, 'rw')).uid, 65534);

  // A change made by the tree itself (not through the mount) is visible immediately too: kernfs notifies, we
  // invalidate the kernel's cached attributes.
  assert.equal(sh(`stat -c %a ${mnt}/hello`).out.trim(), '444');
  m.post({ type: 'chmod', path: 'hello', mode: 0o400 });
  let seen = '';
  for (let i = 0; i < 50 && seen !== '400'; i++) {
    seen = sh(`stat -c %a ${mnt}/hello`).out.trim();
    if (seen !== '400') await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(seen, '400');

  // With the barrier: once the tree says "done", the very next stat sees the change, no retrying.
  await ask(m, { type: 'chmod-sync', path: 'hello', mode: 0o440 } as { type: string });
  assert.equal(sh(`stat -c %a ${mnt}/hello`).out.trim(), '440');
});

test('mkdir/rmdir where the tree allows it, EPERM elsewhere; touch EACCES; mv EPERM', async (t) => {
  const m = await mountForTest(t);
  const mnt = m.mountpoint;
  assert.equal(sh(`mkdir ${mnt}/instances/foo`).code, 0);
  assert.equal(sh(`ls ${mnt}/instances`).out, 'foo\n');
  assert.ok(statSync(join(mnt, 'instances/foo')).isDirectory());
  assert.equal(sh(`rmdir ${mnt}/instances/foo`).code, 0);
  assert.equal(sh(`ls ${mnt}/instances`).out, '');

  const mk = sh(`mkdir ${mnt}/dir/nope`);
  assert.notEqual(mk.code, 0);
  assert.match(mk.err, /Operation not permitted/);

  const touch = sh(`touch ${mnt}/newfile`);
  assert.notEqual(touch.code, 0);
  assert.match(touch.err, /Permission denied/);

  const mv = sh(`mv ${mnt}/rw ${mnt}/rw2`);
  assert.notEqual(mv.code, 0);
  assert.match(mv.err, /Operation not permitted/);
  assert.equal(sh(`cat ${mnt}/rw`).out, 'initial\n');
});

test('symlinks resolve; ln, ln -s, mknod and rm are refused; statfs and utimes work', async (t) => {
  const m = await mountForTest(t);
  const mnt = m.mountpoint;
  assert.equal(sh(`readlink ${mnt}/link`).out, 'dir/sub/leaf\n');
  assert.equal(sh(`cat ${mnt}/link`).out, 'leaf\n');
  for (const cmd of [
    `ln -s x ${mnt}/instances/l`,
    `ln ${mnt}/rw ${mnt}/instances/h`,
    `mknod ${mnt}/instances/p p`,
    `rm ${mnt}/rw`,
  ]) {
    const r = sh(cmd);
    assert.notEqual(r.code, 0, cmd);
    assert.match(r.err, /Operation not permitted/, cmd);
  }
  const df = sh(`stat -f -c '%l %S' ${mnt}`);
  assert.equal(df.code, 0, df.err);
  assert.equal(df.out, '255 4096\n');
  assert.equal(
    sh(`touch -d '2020-01-02 03:04:05.5' ${mnt}/rw && stat -c %y ${mnt}/rw`).out,
    '2020-01-02 03:04:05.500000000 +0000\n',
  );
});

test('a directory created by the tree appears in ls at once (cached listings are invalidated)', async (t) => {
  const m = await mountForTest(t);
  const mnt = m.mountpoint;
  const before = sh(`ls ${mnt}`).out;
  assert.ok(!before.includes('fresh'));
  m.post({ type: 'mkdir', name: 'fresh' });
  let listing = '';
  for (let i = 0; i < 50 && !listing.includes('fresh'); i++) {
    listing = sh(`ls ${mnt}`).out;
    if (!listing.includes('fresh')) await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(listing.includes('fresh'), listing);
  assert.ok(statSync(join(mnt, 'fresh')).isDirectory());

  // With the invalidation barrier, and another process refilling the cached listing all the while: every new
  // directory is in the very next listing.
  const lister = spawn('sh', ['-c', `while :; do ls ${mnt} >/dev/null; done`], { stdio: 'ignore' });
  t.after(() => lister.kill('SIGKILL'));
  for (let i = 0; i < 50; i++) {
    await ask(m, { type: 'mkdir-sync', name: `new${i}` } as { type: string });
    assert.ok(sh(`ls ${mnt}`).out.split('\n').includes(`new${i}`), `new${i} missing from the listing`);
  }
});

test('a non-owner is refused a write but may read', async (t) => {
  const m = await mountForTest(t, { options: { allowOther: true } });
  const mnt = m.mountpoint;
  const asNobody = (cmd: string) =>
    spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'sh', '-c', cmd], {
      encoding: 'utf8',
      timeout: 10_000,
    });
  const read = asNobody(`cat ${mnt}/hello`);
  assert.equal(read.status, 0, read.stderr);
  assert.equal(read.stdout, 'hello world\n');
  const write = asNobody(`echo x > ${mnt}/rw`);
  assert.notEqual(write.status, 0);
  assert.match(write.stderr, /Permission denied/);
  assert.equal(sh(`cat ${mnt}/rw`).out, 'initial\n');
  const chmod = asNobody(`chmod 666 ${mnt}/rw`);
  assert.notEqual(chmod.status, 0);
  assert.match(chmod.stderr, /Operation not permitted/);
});

test('without default_permissions, kernfs checks the caller with its supplementary groups (from /proc)', async (t) => {
  const m = await mountForTest(t, { options: { allowOther: true, defaultPermissions: false } });
  const mnt = m.mountpoint;
  assert.equal(sh(`chown root:100 ${mnt}/rw && chmod 660 ${mnt}/rw`).code, 0);
  const as = (groups: string[], cmd: string) =>
    spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', ...groups, 'sh', '-c', cmd], {
      encoding: 'utf8',
      timeout: 10_000,
    });
  const denied = as(['--clear-groups'], `echo no > ${mnt}/rw`);
  assert.notEqual(denied.status, 0);
  assert.match(denied.stderr, /Permission denied/);
  const allowed = as(['--groups=100'], `echo yes > ${mnt}/rw`);
  assert.equal(allowed.status, 0, allowed.stderr);
  assert.equal(sh(`cat ${mnt}/rw`).out, 'yes\n');
});
