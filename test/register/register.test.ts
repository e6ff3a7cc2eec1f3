/** `node --import ntrace/register`: real applications in child processes, traced without a line of ntrace code. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { listLive } from '../../src/discovery/index.js';
import { LAZY_PERIOD_MS } from '../../src/node/index.js';
import { eventually, isMountPoint } from '../support/mount.js';
import { repoRoot } from '../support/paths.js';
import { appScript, cliScript, read, startApp, tempIndex } from './helpers.js';

/** Long enough for every thread's lazy timer to have looked at the enable flags (several periods, under load). */
const SETTLE_MS = LAZY_PERIOD_MS * 5;

function enable(mount: string, ...paths: string[]): void {
  for (const p of paths) writeFileSync(join(mount, 'events', p, 'enable'), '1');
}

test('HTTP server and client, and fetch, as node_http and node_fetch events', async (t) => {
  const app = await startApp(t);
  assert.deepEqual(
    readdirSync(join(app.mount, 'events'))
      .filter((s) => s.startsWith('node_'))
      .sort(),
    ['node_dgram', 'node_fetch', 'node_http', 'node_net', 'node_process', 'node_runtime'],
  );
  await app.send('http'); // nothing enabled: nothing recorded
  assert.doesNotMatch(read(join(app.mount, 'trace')), /server_request/);
  enable(app.mount, 'node_http', 'node_fetch');
  await sleep(SETTLE_MS);
  const { fetchPort } = await app.send('http');
  const trace = read(join(app.mount, 'trace'));
  assert.match(trace, /server_request: GET \/plain\?x=1 from 127\.0\.0\.1:\d+$/m);
  assert.match(trace, /server_response: GET \/plain\?x=1 status=200 duration_ns=[1-9]\d* from 127\.0\.0\.1$/m);
  assert.match(trace, /client_request: GET 127\.0\.0\.1\/plain\?x=1$/m);
  assert.match(trace, /client_response: GET 127\.0\.0\.1\/plain\?x=1 status=200 duration_ns=[1-9]\d*$/m);
  assert.match(trace, new RegExp(`request_create: GET http://127\\.0\\.0\\.1:${fetchPort}/fetched$`, 'm'));
  assert.match(
    trace,
    new RegExp(`request_headers: GET http://127\\.0\\.0\\.1:${fetchPort}/fetched status=200 duration_ns=[1-9]`, 'm'),
  );
  assert.match(trace, new RegExp(`connect: http://127\\.0\\.0\\.1:${fetchPort} duration_ns=[1-9]\\d*$`, 'm'));
  assert.match(trace, /server_request: GET \/fetched/);
  // Disabled again: the subscriptions go, nothing more is recorded.
  writeFileSync(join(app.mount, 'events', 'enable'), '0');
  writeFileSync(join(app.mount, 'trace'), '');
  await sleep(SETTLE_MS);
  await app.send('http');
  assert.doesNotMatch(read(join(app.mount, 'trace')), /node_|server_request|request_create/);
  // Its format is what libtraceevent parses: typed fields.
  assert.match(
    read(join(app.mount, 'events/node_http/server_response/format')),
    /field:u16 status;.*\n.*field:u64 duration_ns;/,
  );
  await app.send('exit');
  assert.equal(await app.exited, 0);
  assert.equal(app.stderr(), '');
  assert.equal(isMountPoint(app.mount), false, 'unmounted at exit');
  assert.equal(existsSync(app.mount), false, 'its directory removed at exit');
  assert.deepEqual(listLive(app.index), []);
});

test('TCP server and client, udp, a child process and a worker thread recording its own events', async (t) => {
  const app = await startApp(t);
  enable(app.mount, 'node_net', 'node_dgram', 'node_process', 'node_http/client_request');
  await sleep(SETTLE_MS);
  const { tcpPort } = await app.send('net');
  await app.send('dgram');
  const { pid } = await app.send('child');
  // The worker defines app:work; enable it as soon as it exists, then run the worker again.
  const { threadId: first } = await app.send('worker');
  enable(app.mount, 'app/work');
  const { threadId } = await app.send('worker');
  const trace = read(join(app.mount, 'trace'));
  assert.match(trace, new RegExp(`listen: 127\\.0\\.0\\.1 port=${tcpPort} family=IPv4$`, 'm'));
  assert.match(
    trace,
    new RegExp(`client_socket: 127\\.0\\.0\\.1:\\d+ -> 127\\.0\\.0\\.1:${tcpPort} connect_ns=\\d+$`, 'm'),
  );
  assert.match(trace, new RegExp(`server_socket: 127\\.0\\.0\\.1:${tcpPort} <- 127\\.0\\.0\\.1:\\d+$`, 'm'));
  assert.match(trace, /node_dgram|socket: type=udp4$/m);
  assert.match(trace, new RegExp(`child_process: pid=${pid} file=true args=true$`, 'm'));
  assert.match(trace, /^ +node-\d+ +\[/m, 'the main thread is named like the kernel names the process (its comm)');
  assert.match(trace, new RegExp(`worker: thread_id=${first}$`, 'm'));
  // The worker's own events carry its name as comm; so do Node's events it causes there.
  assert.match(trace, new RegExp(`^ +worker-${threadId}-\\d+ +\\[\\d+\\] .{5} +[\\d.]+: work: n=7$`, 'm'));
  assert.match(trace, new RegExp(`^ +worker-${threadId}-\\d+ .*client_request: GET 127\\.0\\.0\\.1/from-worker$`, 'm'));
  await app.send('exit');
  assert.equal(await app.exited, 0);
});

test('loop_blocked is recorded while the loop is still blocked, then with its whole duration', async (t) => {
  const app = await startApp(t);
  enable(app.mount, 'node_runtime/loop_blocked');
  await sleep(SETTLE_MS);
  let unblocked = false;
  const reply = app.send('block 300').then(() => {
    unblocked = true;
  });
  let seenWhileBlocked = false;
  const stuck = /loop_blocked: duration_ns=(\d+) still_blocked=1$/m;
  while (!unblocked) {
    if (stuck.test(read(join(app.mount, 'trace')))) {
      seenWhileBlocked = !unblocked;
      break;
    }
    await sleep(5);
  }
  await reply;
  assert.ok(seenWhileBlocked, 'the record came while the application was still in its busy loop');
  assert.ok(await eventually(() => /still_blocked=0$/m.test(read(join(app.mount, 'trace'))), 5000));
  const trace = read(join(app.mount, 'trace'));
  assert.match(trace, /^ +loop-watch-\d+ /m);
  const during = Number(stuck.exec(trace)?.[1]);
  const total = Number(/loop_blocked: duration_ns=(\d+) still_blocked=0$/m.exec(trace)?.[1]);
  assert.ok(during >= 100e6 && during < 300e6, `noticed after the 100 ms threshold, before the end: ${during}`);
  assert.ok(total >= 250e6 && total < 2000e6, `the whole stall: ${total}`);
});

test('enabling while the main thread is busy: the first request after the busy loop is recorded', async (t) => {
  const app = await startApp(t);
  await sleep(SETTLE_MS);
  const blocked = app.send('block 1500');
  await sleep(300); // the main thread is now in its busy loop: no timer, no message can run there
  // Served by the FUSE thread: the flag is set in shared memory while the main thread spins.
  enable(app.mount, 'node_http/server_request');
  const status = new Promise<number>((resolve, reject) => {
    get({ host: '127.0.0.1', port: app.port, path: '/after-busy', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
  assert.doesNotMatch(read(join(app.mount, 'trace')), /server_request/, 'nothing yet: the loop is still busy');
  await blocked;
  assert.equal(await status, 200);
  assert.match(read(join(app.mount, 'trace')), /server_request: GET \/after-busy from 127\.0\.0\.1:\d+$/m);
});

test('SIGKILL: the mount and the index entry go away', async (t) => {
  const app = await startApp(t);
  // The entry is written once mount() has returned, a moment after the mount appears.
  assert.ok(await eventually(() => listLive(app.index).length === 1, 30_000));
  assert.deepEqual(
    listLive(app.index).map((e) => [e.pid, e.mount]),
    [[app.pid, app.mount]],
  );
  app.child.kill('SIGKILL');
  await app.exited;
  assert.ok(await eventually(() => !isMountPoint(app.mount), 30_000), 'the watchdog detached the mount');
  assert.deepEqual(listLive(app.index), []);
  assert.equal(existsSync(app.mount), false, 'the stale directory was pruned with the entry');
  assert.deepEqual(readdirSync(app.index), []);
});

test('when no mount can be made, the app runs untouched and one stderr line says why', async (t) => {
  const index = tempIndex(t);
  const run = (env: Record<string, string>, code: string) =>
    spawnSync(process.execPath, ['--import', 'ntrace/register', '--input-type=module', '-e', code], {
      cwd: repoRoot,
      env: { ...process.env, NTRACE_INDEX_DIR: index, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
  const app = 'setTimeout(() => { console.log("app ran"); process.exitCode = 3; }, 50);';
  const bad = run({ NTRACE_MOUNT: '/proc/version/x' }, app);
  assert.equal(bad.status, 3);
  assert.equal(bad.stdout, 'app ran\n');
  assert.match(bad.stderr, /^ntrace: not tracing this process: .*\/proc\/version\/x.*\n$/);
  const quiet = run({ NTRACE_MOUNT: '/proc/version/x', NTRACE_QUIET: '1' }, app);
  assert.equal(quiet.status, 3);
  assert.equal(quiet.stderr, '');
  // A mount that works keeps the exit code too, and no handle of ntrace keeps the process alive.
  const good = run({}, app);
  assert.equal(good.status, 3);
  assert.equal(good.stdout, 'app ran\n');
  assert.equal(good.stderr, '');
  assert.deepEqual(readdirSync(index), []);
});

test('--require works for CommonJS setups', async (t) => {
  const app = await startApp(t, { flag: '--require' });
  enable(app.mount, 'node_http/server_request');
  await sleep(SETTLE_MS);
  await app.send('http');
  assert.match(read(join(app.mount, 'trace')), /server_request: GET \/plain/);
});

test('ntrace ls lists the process; ntrace tail streams a fresh instance and removes it', async (t) => {
  const app = await startApp(t);
  const env = { ...process.env, NTRACE_INDEX_DIR: app.index };
  const ls = spawnSync(process.execPath, [cliScript, 'ls'], { env, encoding: 'utf8' });
  assert.equal(ls.status, 0, ls.stderr);
  const [header, line, ...rest] = ls.stdout.trimEnd().split('\n');
  assert.match(header, /^PID +UPTIME +THREADS +MOUNT +ENABLED +COMMAND$/);
  assert.deepEqual(rest, []);
  assert.match(line, new RegExp(`^${app.pid} +\\d+s +\\d+ +${app.mount} +- +.*--import ntrace/register ${appScript}$`));

  const tail = spawn(process.execPath, [cliScript, 'tail', String(app.pid), 'node_http:server_request'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tailExit = new Promise<number | null>((r) => tail.once('exit', (code) => r(code)));
  t.after(() => tail.kill('SIGKILL'));
  let out = '';
  let err = '';
  tail.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  tail.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  assert.ok(await eventually(() => err.includes('Ctrl-C to stop'), 20_000), err);
  const instances = readdirSync(join(app.mount, 'instances'));
  assert.deepEqual(instances, [`tail-${tail.pid}`]);
  assert.equal(read(join(app.mount, 'set_event')), '', 'the top level is left alone');
  await sleep(SETTLE_MS);
  await app.send('http');
  assert.ok(await eventually(() => /server_request: GET \/plain\?x=1/.test(out), 30_000), out);
  assert.doesNotMatch(out, /server_response/);
  const listed = spawnSync(process.execPath, [cliScript, 'ls'], { env, encoding: 'utf8' }).stdout;
  assert.match(listed, /node_http:server_request/);
  tail.kill('SIGINT');
  assert.equal(await tailExit, 0);
  assert.deepEqual(readdirSync(join(app.mount, 'instances')), [], 'the instance is removed');

  // A tail ends by itself when its process ends.
  const again = spawn(process.execPath, [cliScript, 'tail', app.mount], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => again.kill('SIGKILL'));
  let againErr = '';
  again.stderr.setEncoding('utf8').on('data', (d: string) => {
    againErr += d;
  });
  const againExit = new Promise<number | null>((r) => again.once('exit', (code) => r(code)));
  assert.ok(await eventually(() => againErr.includes('Ctrl-C to stop'), 20_000), againErr);
  app.child.kill('SIGKILL');
  assert.equal(await againExit, 0);
  assert.match(againErr, /the process ended/);
});
