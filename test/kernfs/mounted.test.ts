/**
 * The kernel-sized events tree mounted over FUSE and walked with the ordinary tools: the kernel sees unique, stable
 * inode numbers, template-file chmod/chgrp survives the kernel forgetting everything, and permissions hold for
 * another user.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { ask, mountForTest } from '../support/mount.js';
import { sh } from '../support/process.js';
import { kernelSpec } from './helpers.js';

/** path → "ino mode uid:gid" for everything under the mount, as find sees it. */
function census(mnt: string): Map<string, string> {
  const r = sh(`cd ${mnt} && find . -printf '%i %m %U:%G %p\\n'`);
  assert.equal(r.code, 0, r.err);
  const out = new Map<string, string>();
  for (const line of r.out.trim().split('\n')) {
    const [ino, mode, owner, path] = line.split(' ');
    out.set(path, `${ino} ${mode} ${owner}`);
  }
  return out;
}

test('the kernel-sized events tree through a real mount: unique stable inodes, chmod surviving forget', async (t) => {
  const m = await mountForTest(t, {
    vfsModule: new URL('./events-tree.js', import.meta.url),
    options: { allowOther: true },
  });
  const mnt = m.mountpoint;
  const live = async (): Promise<number> => (await ask<{ n: number }>(m, { type: 'live' })).n;
  const start = await live();

  const spec = kernelSpec();
  const events = spec.systems.reduce((n, s) => n + s.events.length, 0);
  const ftrace = spec.systems.find((s) => s.name === 'ftrace')?.events.length ?? 0;
  const first = census(mnt);
  // . + events + systems (dir + 2 files) + events (dir + 7 files; ftrace's have 4)
  assert.equal(first.size, 2 + spec.systems.length * 3 + events * 8 - ftrace * 3);
  const inos = [...first.values()].map((v) => v.split(' ')[0]);
  assert.equal(new Set(inos).size, inos.length, 'every inode number is unique');

  const file = `${mnt}/events/sched/sched_switch/enable`;
  assert.equal(sh(`cat ${mnt}/events/sched/sched_switch/format`).out, 'format of sched/sched_switch\n');
  assert.equal(sh(`chmod 600 ${file} && chgrp 1234 ${file}`).code, 0);
  // Another user: group 0 (supplementary) may read the 0640 root:root filter; group 1234 may not read the 0600 enable.
  const as = (groups: string, cmd: string) => sh(`setpriv --reuid 1000 --regid 1000 --groups ${groups} ${cmd}`);
  const filterRead = as('0', `cat ${mnt}/events/sched/sched_switch/filter`);
  assert.equal(filterRead.code, 0, filterRead.err);
  assert.match(as('1234', `cat ${file}`).err, /Permission denied/);
  assert.match(as('5', `cat ${mnt}/events/sched/sched_switch/filter`).err, /Permission denied/);
  // Let the kernel forget every inode; the tree's inode objects go with them.
  let back = false;
  for (let i = 0; i < 50 && !back; i++) {
    writeFileSync('/proc/sys/vm/drop_caches', '2');
    back = (await live()) === start;
    if (!back) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(back, `live inodes ${await live()} never came back to ${start}`);

  const second = census(mnt);
  const path = './events/sched/sched_switch/enable';
  assert.equal(second.get(path), `${first.get(path)!.split(' ')[0]} 600 0:1234`);
  second.set(path, first.get(path)!);
  assert.deepEqual(second, first, 'same inode numbers, modes and owners after forget');
});
