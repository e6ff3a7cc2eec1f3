/** The library entry: option checks, clear reasons when a mount cannot be made, close idempotent, stats. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listInstances } from '../../src/trace/engine.js';
import { defineEvent } from '../../src/trace/event.js';
import { mount, mountProblem } from '../../src/tracefs/index.js';
import { isMountPoint } from '../support/mount.js';
import { mountTracefs, ok } from './helpers.js';

test('mountProblem says what is wrong and what to do', () => {
  assert.match(mountProblem('/nonexistent/x') ?? '', /does not exist: create it first \(mkdir -p \/nonexistent\/x\)/);
  assert.match(mountProblem('/proc/version') ?? '', /is not a directory/);
  assert.equal(mountProblem('/tmp'), undefined);
});

test('bad options are refused before anything is mounted', async () => {
  await assert.rejects(mount('/tmp', { uid: -1 }), /uid must be an integer id/);
  await assert.rejects(mount('/tmp', { gid: 1.5 }), /gid must be an integer id/);
  await assert.rejects(mount('/tmp', { mode: 0o10000 }), /mode must be permission bits/);
  await assert.rejects(mount('/nonexistent/x'), /cannot mount at \/nonexistent\/x: .*does not exist/);
});

test('close is idempotent and unmounts; stats come from the serving thread', async (t) => {
  const m = await mountTracefs(t);
  const st = await m.stats();
  assert.ok(st.eventDirs >= 2, 'ftrace events at least');
  assert.equal(st.instances, 0);
  ok(`mkdir ${m.mountpoint}/instances/s1`);
  assert.equal((await m.stats()).instances, 1);
  ok(`rmdir ${m.mountpoint}/instances/s1`);
  await assert.rejects(m.reconfigure({ gid: -3 }), /gid must be an integer id/);
  ok(`mkdir ${m.mountpoint}/instances/left-behind`);
  assert.deepEqual(
    listInstances().map((i) => i.name),
    ['left-behind'],
  );
  await m.close();
  assert.deepEqual(listInstances(), [], 'the mount freed the engine instances made through it');
  await m.close();
  await m.closed;
  assert.equal(isMountPoint(m.mountpoint), false);
});

test('two mounts in one process share the engine, each with its own instances', async (t) => {
  defineEvent('twomounts', 'e', { v: 'u32' });
  const a = await mountTracefs(t);
  const b = await mountTracefs(t);
  ok(`echo 1 > ${a.mountpoint}/events/enable`);
  assert.equal(ok(`cat ${b.mountpoint}/events/enable`), '1\n');
  ok(`echo 0 > ${b.mountpoint}/events/enable`);
  assert.equal(ok(`cat ${a.mountpoint}/events/enable`), '0\n');
  ok(`echo shared > ${a.mountpoint}/trace_marker`);
  assert.match(ok(`cat ${b.mountpoint}/trace`), /tracing_mark_write: shared$/m);
  ok(`mkdir ${a.mountpoint}/instances/only-a`);
  assert.equal(ok(`ls ${b.mountpoint}/instances`), '');
  await a.close();
  assert.equal(ok(`cat ${b.mountpoint}/tracing_on`), '1\n', 'the other mount keeps serving');
});
