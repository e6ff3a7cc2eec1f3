/**
 * Ownership and mount options: uid/gid/mode, the kernel's default modes, chmod/chown persistence, which nodes follow
 * a chown of the root, instances inheriting from instances/, and remount-style reconfiguration — with the kernel
 * selftests test_ownership.tc and mount_options.tc re-targeted to our events (run twice, and inside an instance).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineEvent } from '../../src/trace/event.js';
import { eventually } from '../support/mount.js';
import { delay, mountTracefs, ok, sh, uniqueSystem } from './helpers.js';

const stat = (path: string, fmt = '%u %g %a') => ok(`stat -c '${fmt}' ${path}`).trim();

test('mount options uid, gid and mode; kernel default modes', async (t) => {
  const sys = uniqueSystem('own');
  defineEvent(sys, 'e', { v: 'u32' });
  const m = await mountTracefs(t, { uid: 1234, gid: 2345, mode: 0o750 });
  const d = m.mountpoint;
  assert.equal(stat(d), '1234 2345 750');
  assert.equal(stat(`${d}/trace`), '1234 2345 640');
  assert.equal(stat(`${d}/trace_marker`), '1234 2345 220');
  assert.equal(stat(`${d}/instances`), '1234 2345 750');
  assert.equal(stat(`${d}/events`), '1234 2345 755');
  assert.equal(stat(`${d}/events/${sys}/e/format`), '1234 2345 440');
  assert.equal(stat(`${d}/per_cpu`), '1234 2345 750');
  assert.equal(stat(`${d}/options/raw`), '1234 2345 640');
});

test('chmod and chown persist across forget and do not spread downwards', async (t) => {
  const sys = uniqueSystem('pers');
  defineEvent(sys, 'e', { v: 'u32' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  const e = `${d}/events/${sys}/e`;
  ok(
    `chmod 600 ${e}/enable ${d}/trace; chown 77:88 ${e}/format ${d}/tracing_on; chmod 700 ${d}/events/${sys}; chgrp 99 ${e}`,
  );
  sh('echo 2 > /proc/sys/vm/drop_caches');
  await delay(100);
  assert.equal(stat(`${e}/enable`), '0 0 600');
  assert.equal(stat(`${d}/trace`), '0 0 600');
  assert.equal(stat(`${e}/format`), '77 88 440');
  assert.equal(stat(`${d}/tracing_on`), '77 88 640');
  assert.equal(stat(`${d}/events/${sys}`), '0 0 700');
  assert.equal(stat(e), '0 99 755');
  assert.equal(stat(`${e}/id`), '0 0 440', 'a chgrp of a directory does not spread to its files');
  assert.equal(stat(`${d}/events/${sys}/enable`), '0 0 640');
});

test('root chown is followed by tracefs files, not by events/; instances inherit from instances/', async (t) => {
  const sys = uniqueSystem('root');
  defineEvent(sys, 'e', { v: 'u32' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  ok(`chown 11:22 ${d /* the root */}`);
  ok(`chown 33:44 ${d}/tracing_on`);
  // Attributes the kernel cached for followers are invalidated right after the chown (asynchronously).
  assert.ok(await eventually(() => stat(`${d}/trace`, '%u %g') === '11 22', 1000), 'trace follows the root');
  assert.equal(stat(`${d}/per_cpu`, '%u %g'), '11 22');
  assert.equal(stat(`${d}/instances`, '%u %g'), '11 22');
  assert.equal(stat(`${d}/tracing_on`, '%u %g'), '33 44', 'explicit owner kept');
  assert.equal(stat(`${d}/events`, '%u %g'), '0 0');
  assert.equal(stat(`${d}/events/${sys}/e/enable`, '%u %g'), '0 0');
  ok(`chgrp 55 ${d}/instances`);
  ok(`mkdir ${d}/instances/i1`);
  t.after(() => sh(`rmdir ${d}/instances/i1`));
  for (const p of ['', '/trace', '/events', `/events/${sys}`, `/events/${sys}/e/enable`, '/options/raw'])
    assert.equal(stat(`${d}/instances/i1${p}`, '%u %g'), '11 55', `instances/i1${p}`);
  ok(`chown 66 ${d}/instances/i1`);
  assert.ok(await eventually(() => stat(`${d}/instances/i1/trace`, '%u %g') === '66 55', 1000), 'follows i1');
});

test('reconfigure({gid}) resets every group, explicit ones and never-looked-up ones, and keeps modes', async (t) => {
  const sys = uniqueSystem('rec');
  defineEvent(sys, 'e', { v: 'u32' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  ok(`chgrp 5 ${d}/trace ${d}/events/${sys}/e/id; chmod 604 ${d}/trace; mkdir ${d}/instances/r`);
  t.after(() => sh(`rmdir ${d}/instances/r`));
  await m.reconfigure({ gid: 4242 });
  for (const p of [
    '',
    '/trace',
    '/events',
    `/events/${sys}/e/id`,
    '/instances/r/events/ftrace/print/format',
    '/options/hex',
  ])
    assert.equal(stat(`${d}${p}`, '%g'), '4242', p || '/');
  assert.equal(stat(`${d}/trace`, '%a'), '604');
  await m.reconfigure({ uid: 7, gid: 0 });
  assert.equal(stat(`${d}/events/${sys}/e/enable`, '%u %g'), '7 0');
  await m.reconfigure({ uid: 0 });
});

test('non-owners are refused as the modes say', async (t) => {
  const sys = uniqueSystem('perm');
  defineEvent(sys, 'e', { v: 'u32' });
  const m = await mountTracefs(t, { allowOther: true, mode: 0o755 });
  const d = m.mountpoint;
  const asNobody = (cmd: string) => sh(`setpriv --reuid=65534 --regid=65534 --clear-groups sh -c '${cmd}'`);
  assert.notEqual(asNobody(`cat ${d}/trace`).code, 0);
  assert.notEqual(asNobody(`echo 1 > ${d}/tracing_on`).code, 0);
  assert.equal(asNobody(`cat ${d}/events/${sys}/e/format`).code !== 0, true, 'format is 0440 root:root');
  assert.equal(asNobody(`ls ${d}/events/${sys}/e`).code, 0, 'eventfs directories are 0755');
  ok(`chgrp 65534 ${d}/trace; chmod 646 ${d}/tracing_on; chown 65534 ${d}/events/${sys}/e/enable`);
  assert.equal(asNobody(`cat ${d}/trace > /dev/null`).code, 0);
  assert.equal(asNobody(`echo 1 > ${d}/tracing_on`).code, 0);
  assert.equal(asNobody(`echo 1 > ${d}/events/${sys}/e/enable`).code, 0);
  assert.equal(ok(`cat ${d}/events/${sys}/e/enable`), '1\n');
  assert.notEqual(asNobody(`chmod 777 ${d}/trace`).code, 0);
  assert.notEqual(asNobody(`mkdir ${d}/instances/n`).code, 0);
});

/** test_ownership.tc, re-targeted: `sched/sched_switch` → S/E, the canary → C/CE. */
async function testOwnership(t: { after(fn: () => unknown): void }, iterations: number): Promise<void> {
  const s = uniqueSystem('sched');
  const c = uniqueSystem('timer');
  defineEvent(s, 'sw', { v: 'u32' });
  defineEvent(c, 'cancel', { v: 'u32' });
  let m: Awaited<ReturnType<typeof mountTracefs>> | undefined;
  const originalGroup = 0;
  const originalOwner = 0;
  const otherGroup = 3000;
  const otherOwner = 3001;
  // biome-ignore lint/suspicious/noExplicitAny: the test context is passed through
  m = await mountTracefs(t as any, { gid: originalGroup });
  const d = m.mountpoint;
  const canary = [`events/${c}`, `events/${c}/cancel`, `events/${c}/cancel/format`];
  const check = (base: string, file: string, group: number) => {
    const p = `${base}/${file}`;
    assert.equal(stat(p, '%u %g'), `${originalOwner} ${group}`, `${file} group`);
    ok(`chown ${otherOwner} ${p}`);
    assert.equal(stat(p, '%u'), `${otherOwner}`, `${file} chown`);
    ok(`chown ${originalOwner} ${p}`);
    assert.equal(stat(p, '%u'), `${originalOwner}`);
  };
  const runTests = (base: string) => {
    const all = ['.', 'events', `events/${s}`, `events/${s}/sw`, `events/${s}/sw/enable`, ...canary];
    for (const f of all) check(base, f, otherGroup);
    ok(`chgrp ${originalGroup} ${base}/events`);
    check(base, 'events', originalGroup);
    for (const f of all.filter((x) => x !== 'events')) check(base, f, otherGroup);
    ok(`chgrp ${originalGroup} ${base}/events/${s}`);
    check(base, `events/${s}`, originalGroup);
    for (const f of ['.', `events/${s}/sw`, `events/${s}/sw/enable`, ...canary]) check(base, f, otherGroup);
    ok(`chgrp ${originalGroup} ${base}/events/${s}/sw`);
    check(base, `events/${s}/sw`, originalGroup);
    for (const f of ['.', `events/${s}/sw/enable`, ...canary]) check(base, f, otherGroup);
    ok(`chgrp ${originalGroup} ${base}/events/${s}/sw/enable`);
    check(base, `events/${s}/sw/enable`, originalGroup);
    for (const f of ['.', ...canary]) check(base, f, otherGroup);
  };
  for (let loop = 0; loop < iterations; loop++) {
    await m.reconfigure({ gid: otherGroup });
    runTests(d);
    await m.reconfigure({ gid: originalGroup });
    for (const f of ['.', 'events', `events/${s}`, `events/${s}/sw`, `events/${s}/sw/enable`, ...canary])
      check(d, f, originalGroup);
    ok(`chgrp ${otherGroup} ${d}/instances`);
    ok(`mkdir ${d}/instances/test-own`);
    try {
      runTests(`${d}/instances/test-own`);
    } finally {
      sh(`rmdir ${d}/instances/test-own`);
    }
    ok(`chgrp ${originalGroup} ${d}/instances`);
  }
}

test('selftest test_ownership.tc, re-targeted, run twice', async (t) => {
  await testOwnership(t, 2);
});

test('selftest mount_options.tc (gid), re-targeted', async (t) => {
  const s = uniqueSystem('sched');
  defineEvent(s, 'sw', { v: 'u32' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  const checkGid = (base: string, gid: number) => {
    for (const f of ['.', 'events', `events/${s}`, `events/${s}/sw`, `events/${s}/sw/enable`])
      assert.equal(stat(`${base}/${f}`, '%g'), String(gid), `${base}/${f}`);
  };
  const other = 3100;
  await m.reconfigure({ gid: other });
  checkGid(d, other);
  ok(`mkdir ${d}/instances/test-mo`);
  try {
    checkGid(`${d}/instances/test-mo`, other);
  } finally {
    sh(`rmdir ${d}/instances/test-mo`);
  }
  await m.reconfigure({ gid: 0 });
  checkGid(d, 0);
});
