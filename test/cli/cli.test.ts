/** The `ntrace` command end to end: serve (with remount), demo, usage errors, clear messages when a mount fails. */
import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isMountPoint, tempMountpoint } from '../support/mount.js';
import { kernelEventsPath } from '../support/paths.js';
import { MAIN, ntrace as run, shOut as sh, start } from '../support/process.js';

/** Serving commands unmount, then die by the signal that stopped them (as they would have without a handler). */
async function stop(
  child: ChildProcess,
  exited: Promise<number | string>,
  signal: NodeJS.Signals,
): Promise<number | string> {
  child.kill(signal);
  return exited;
}

test('usage: help, unknown commands and missing options', () => {
  const help = run([]);
  assert.equal(help.code, 0);
  assert.match(help.out, /ntrace serve --events SPEC\.json --mount DIR/);
  const bad = run(['bogus']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unknown command 'bogus'/);
  assert.equal(run(['serve', '--mount', '/tmp']).code, 2);
  assert.match(run(['serve', '--events', 'x.json', '--mount', '/tmp', '--mode', '999']).err, /--mode takes octal/);
  assert.match(run(['remount', '/tmp']).err, /remount needs --gid/);
  assert.match(run(['serve', '--nope']).err, /Unknown option/);
});

test('serve: events from a spec, uid/gid/mode, remount --gid, SIGTERM unmounts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ntrace-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const spec = join(dir, 'spec.json');
  writeFileSync(
    spec,
    JSON.stringify({
      systems: [
        { name: 'app', events: [{ name: 'tick', fields: [{ name: 'n', type: 'u32' }] }] },
        {
          name: 'db',
          events: [
            {
              name: 'query',
              fields: [
                { name: 'sql', type: 'string' },
                { name: 'ms', type: 'u32' },
              ],
            },
          ],
        },
      ],
    }),
  );
  const mnt = tempMountpoint(t as never);
  const s = await start(
    t,
    [process.execPath, MAIN, 'serve', '--events', spec, '--mount', mnt, '--gid', '123', '--mode', '750'],
    /serving 2 events/,
  );
  assert.equal(
    sh(`ls ${mnt}/events/app ${mnt}/events/db`),
    `${mnt}/events/app:\nenable\nfilter\ntick\n\n${mnt}/events/db:\nenable\nfilter\nquery\n`,
  );
  assert.equal(sh(`stat -c '%a %g' ${mnt} ${mnt}/trace ${mnt}/events/db/query/format`), '750 123\n640 123\n440 123\n');
  const remount = run(['remount', mnt, '--gid', '456']);
  assert.equal(remount.code, 0, remount.err);
  assert.equal(sh(`stat -c %g ${mnt}/trace ${mnt}/events/app/tick/enable`), '456\n456\n');
  assert.equal(await stop(s.child, s.exited, 'SIGTERM'), 'SIGTERM');
  assert.equal(isMountPoint(mnt), false);
  const gone = run(['remount', mnt, '--gid', '1']);
  assert.equal(gone.code, 1);
  assert.match(gone.err, /no ntrace process serves/);
});

test('serve the kernel-sized spec', async (t) => {
  const mnt = tempMountpoint(t as never);
  const s = await start(
    t,
    [process.execPath, MAIN, 'serve', '--events', kernelEventsPath, '--mount', mnt],
    /serving \d+ events/,
  );
  const served = Number(/serving (\d+) events/.exec(s.out())?.[1]);
  assert.ok(served >= 2300, `${served} events`);
  const formats = Number(sh(`find ${mnt}/events -name format | wc -l`).trim());
  assert.ok(formats >= served, `${formats} format files`);
  assert.equal(await stop(s.child, s.exited, 'SIGINT'), 'SIGINT');
  assert.equal(isMountPoint(mnt), false);
});

test('demo: mounted at ./tracing, live http events in trace_pipe, Ctrl-C unmounts and tidies up', async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'ntrace-demo-'));
  t.after(() => {
    spawnSync('umount', ['-l', join(cwd, 'tracing')]);
    rmSync(cwd, { recursive: true, force: true });
  });
  const s = await start(t, [process.execPath, MAIN, 'demo'], /cat tracing\/trace_pipe/, cwd);
  sh(`cd ${cwd} && echo 1 > tracing/events/http/enable`);
  const lines = sh(`cd ${cwd} && timeout 10 head -n 4 tracing/trace_pipe`);
  assert.match(lines, /request_start: method=(GET|POST) url=\//);
  assert.match(lines, /request_end: method=(GET|POST) url=\S+ status=\d+ duration_us=\d+ bytes=\d+/);
  // Filters written through the mount are applied by the demo's main thread.
  sh(
    `cd ${cwd} && echo 0 > tracing/events/http/request_start/enable && echo 'status >= 500' > tracing/events/http/request_end/filter && echo > tracing/trace`,
  );
  const filtered = sh(`cd ${cwd} && timeout 10 head -n 3 tracing/trace_pipe`);
  assert.equal(filtered.match(/request_end: .* status=500 /g)?.length, 3, filtered);
  // Node's own events, with no code in the demo app: its channel is subscribed once the event is enabled.
  sh(
    `cd ${cwd} && echo 0 > tracing/events/enable && echo 1 > tracing/events/node_http/server_request/enable && echo > tracing/trace`,
  );
  const node = sh(`cd ${cwd} && timeout 10 head -n 2 tracing/trace_pipe`);
  assert.equal(node.match(/server_request: (GET|POST) \/\S* from 127\.0\.0\.1:\d+$/gm)?.length, 2, node);
  assert.equal(await stop(s.child, s.exited, 'SIGINT'), 'SIGINT');
  assert.match(s.out(), /stopped after \d+ requests/);
  assert.equal(isMountPoint(join(cwd, 'tracing')), false);
  assert.equal(sh(`ls -A ${cwd}`), '');
});

test('a mount that cannot be made says why', () => {
  const r = run(['serve', '--events', kernelEventsPath, '--mount', '/nonexistent/ntrace']);
  assert.equal(r.code, 1);
  assert.match(r.err, /\/nonexistent\/ntrace does not exist: create it first/);
  const demo = run(['demo', '--mount', '/proc/version']);
  assert.equal(demo.code, 1);
  assert.match(demo.err, /not a directory/);
});
