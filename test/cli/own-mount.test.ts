/**
 * The main thread of a serving process never makes a request to its own mount (docs/FUSE.md, "A request to our own
 * mount"): if it did and the process were killed while the serving thread held that request, the main thread would
 * wait for the answer uninterruptibly, never exit, and the watchdog's parent-death signal would never come — a
 * process that does not die and a mount nobody serves. Seen once in 36 kills of `ntrace serve` under load: resolving
 * the control socket's path (realpath of the mount point) after mounting. A kill test finds such a window only by
 * luck; strace sees every path the main thread names, every time.
 *
 * For `ntrace serve`, the demo and an application's mount(): run it under `strace -f`, wait until it serves, stop it
 * with SIGTERM (so the clean shutdown is covered too), then check that no file call of the main thread (its thread
 * id is the process id) named the mount point or anything under it between the mount(2) and the unmount.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { exitWithin, forceEnd } from '../support/kill.js';
import { eventually, isMountPoint } from '../support/mount.js';
import { MAIN, oneEventSpec } from '../support/process.js';

const LIBRARY = fileURLToPath(new URL('./library-child.js', import.meta.url));

/** Whether strace can run here; outside CI a machine without it skips (CI installs it: .ci/run). */
function haveStrace(t: TestContext): boolean {
  if (spawnSync('strace', ['-V']).status === 0) return true;
  if (process.env.CI) assert.fail('strace is required in CI');
  t.skip('strace missing (apt-get install strace)');
  return false;
}

async function mainThreadCalls(t: TestContext, argv: (mnt: string) => string[]): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ntrace-own-mount-'));
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  const log = join(dir, 'strace.log');
  const trace = ['-f', '-qq', '-e', 'trace=%file,mount,umount2', '-o', log];
  const proc = spawn('strace', [...trace, process.execPath, ...argv(mnt)], { stdio: 'ignore', cwd: dir });
  // The first call strace logs is the process's execve: its thread id is the process id.
  const traced = () => {
    try {
      return Number(/^\d+/.exec(readFileSync(log, 'utf8'))?.[0]) || undefined;
    } catch {
      return undefined;
    }
  };
  try {
    assert.ok(await eventually(() => isMountPoint(mnt), 30_000), 'the process never mounted');
    // Some time serving, as an idle process would (timers, the socket, the index).
    await new Promise((r) => setTimeout(r, 500));
    const main = traced();
    assert.ok(main, 'strace logged no call');
    process.kill(main, 'SIGTERM'); // strace ends with the process it traces
    assert.ok(await exitWithin(proc, 20_000), 'the process did not end on SIGTERM');
    // `PID call(args) = result`; the mount and unmount are made by child processes (mount, umount).
    const calls = readFileSync(log, 'utf8')
      .split('\n')
      .flatMap((l) => {
        const m = /^(\d+)\s+(.*)$/.exec(l);
        return m ? [{ tid: Number(m[1]), call: m[2] }] : [];
      });
    const mounted = calls.findIndex((c) => c.call.startsWith('mount("ntrace"'));
    assert.ok(mounted >= 0, 'strace saw no mount(2) of ntrace');
    const unmounted = calls.findIndex((c, i) => i > mounted && /^umount2?\(/.test(c.call));
    assert.ok(unmounted > mounted, 'strace saw no unmount');
    const mainCalls = calls.slice(mounted + 1, unmounted).filter((c) => c.tid === main);
    t.diagnostic(`main thread ${main}: ${mainCalls.length} file calls while mounted`);
    assert.ok(mainCalls.length > 0, 'no file call of the main thread seen while mounted: is strace following it?');
    const inside = mainCalls.filter((c) => c.call.includes(`"${mnt}`)).map((c) => c.call);
    return inside;
  } finally {
    // A killed strace leaves the process it traced running: end that one first.
    const pid = traced();
    try {
      if (pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(mnt)) process.kill(pid, 'SIGKILL');
    } catch {} // gone already
    await forceEnd(mnt, proc);
    rmSync(dir, { recursive: true, force: true });
  }
}

test('ntrace serve: the main thread never asks its own mount', async (t) => {
  if (!haveStrace(t)) return;
  const spec = oneEventSpec(t);
  assert.deepEqual(await mainThreadCalls(t, (mnt) => [MAIN, 'serve', '--events', spec, '--mount', mnt]), []);
});

test('the demo: the main thread never asks its own mount', async (t) => {
  if (!haveStrace(t)) return;
  assert.deepEqual(await mainThreadCalls(t, (mnt) => [MAIN, 'demo', '--mount', mnt]), []);
});

test("an application's mount(): the main thread never asks its own mount", async (t) => {
  if (!haveStrace(t)) return;
  assert.deepEqual(await mainThreadCalls(t, (mnt) => [LIBRARY, mnt]), []);
});
