/**
 * The socket end to end: an app whose /dev/fuse is hidden (its own mount namespace, /dev/null bound over the
 * device) serves its tree on the socket alone; the verbs work on its socket and its PID; a user the socket's
 * permissions leave out is refused by the kernel, a group member gets in; `ntrace mount` of the socket shows the same
 * files as the app's own FUSE mount, byte for byte; killing the app ends the proxy and its mount.
 */
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { listLive } from '../../src/discovery/index.js';
import { eventually, isMountPoint } from '../support/mount.js';
import { MAIN, ntrace, type Run, scratch, serveAndProxy, sh, start } from './support.js';

const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];

test('an app without /dev/fuse: the socket alone, every verb, exit statuses, the kernel refusing other users', async (t) => {
  const { dir, spec } = scratch(t);
  const sock = join(dir, 'app.sock');
  const app = await start(
    t,
    [
      'unshare',
      '-m',
      'sh',
      '-c',
      'mount --bind /dev/null /dev/fuse && exec "$@"',
      'sh',
      process.execPath,
      MAIN,
      'serve',
      '--events',
      spec,
      '--mount',
      join(dir, 'mnt'),
      '--socket',
      sock,
    ],
    /serving 1 events at /,
  );
  assert.match(app.err(), /^ntrace: no FUSE mount \(.*\); serving the socket .*app\.sock only\n$/);
  assert.equal(isMountPoint(join(dir, 'mnt')), false);
  assert.equal(statSync(sock).mode & 0o777, 0o600);
  const pid = app.child.pid!;
  assert.ok(listLive().some((e) => e.pid === pid && e.socket === sock && e.mount === undefined));

  const ok = (r: Run) => {
    assert.equal(r.code, 0, r.err);
    return r.out;
  };
  for (const target of [sock, String(pid)]) {
    assert.equal(ok(ntrace(['cat', target, 'tracing_on', 'events/app/tick/enable'])), '1\n0\n');
    ok(ntrace(['write', target, 'events/app/tick/enable', '1']));
    assert.equal(ok(ntrace(['cat', target, 'events/app/tick/enable'])), '1\n');
    ok(ntrace(['write', target, 'events/app/tick/enable', '0']));
  }
  const bad = ntrace(['write', sock, 'events/app/tick/filter', 'nope == 1']);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^ntrace: events\/app\/tick\/filter: EINVAL \(errno 22\)\n.*event filter parse error/);
  assert.match(bad.err, /Field not found/);
  assert.equal(ok(ntrace(['ls', sock, 'events/app'])), 'enable\nfilter\ntick/\n');
  assert.match(ok(ntrace(['tree', sock, 'events/app'])), /^enable\nfilter\ntick\/\n {2}enable\n/);
  ok(ntrace(['mkdir', sock, 'instances/sock_t']));
  assert.match(ok(ntrace(['ls', sock, 'instances'])), /^sock_t\/$/m);
  assert.equal(ntrace(['mkdir', sock, 'instances/sock_t']).code, 1);
  ok(ntrace(['rmdir', sock, 'instances/sock_t']));
  const missing = ntrace(['cat', sock, 'no_such_file']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /ENOENT/);
  assert.equal(ntrace(['cat', join(dir, 'nothing.sock'), 'trace']).code, 3);
  assert.equal(ntrace(['cat', sock]).code, 2);

  // trace_pipe streams what is written to trace_marker; `| head` ends it.
  const piped = sh(
    `(sleep 0.5; ${process.execPath} ${MAIN} write ${sock} trace_marker hello-socket) & ${process.execPath} ${MAIN} cat ${sock} trace_pipe | head -n 1`,
  );
  assert.match(piped.out, /tracing_mark_write: hello-socket\n$/);

  // Another user: the kernel refuses the connection (the socket is 0600).
  const refused = ntrace(['cat', sock, 'tracing_on'], NOBODY);
  assert.equal(refused.code, 3);
  assert.match(refused.err, /permission denied/);

  app.child.kill('SIGTERM');
  await app.exited;
  assert.equal(ntrace(['cat', sock, 'tracing_on']).code, 3, 'the socket went with the app');
});

test('gid=: group members connect with the group rights, others are refused', async (t) => {
  const { dir, spec } = scratch(t);
  const sock = join(dir, 'group.sock');
  await start(
    t,
    [
      process.execPath,
      MAIN,
      'serve',
      '--events',
      spec,
      '--no-fuse',
      '--socket',
      sock,
      '--gid',
      '4242',
      '--mode',
      '750',
    ],
    /serving 1 events at /,
  );
  const st = statSync(sock);
  assert.equal(st.mode & 0o777, 0o660);
  assert.equal(st.gid, 4242);
  const member = ['--reuid=65534', '--regid=65534', '--groups=4242'];
  const r = ntrace(['cat', sock, 'tracing_on'], member);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, '1\n');
  // The group may read but not write (0640 files): the tree says so, with its errno.
  const w = ntrace(['write', sock, 'tracing_on', '0'], member);
  assert.equal(w.code, 1);
  assert.match(w.err, /EACCES/);
  assert.equal(ntrace(['cat', sock, 'tracing_on'], NOBODY).code, 3);
});

/** Shell-visible behaviour of a tracefs at `d`, as text (no timestamps): run against two mounts and compared. */
function behaviour(d: string): string {
  const script = `
    cd ${d} || exit 1
    ls -1 | sort
    find events -maxdepth 3 | sort
    cat events/*/*/id
    cat events/app/tick/format
    stat -c '%n %a %F' tracing_on trace trace_pipe events instances
    echo 1 > events/app/tick/enable; cat events/app/tick/enable
    echo 0 > events/app/tick/enable; cat events/app/tick/enable
    echo 'nope == 1' > events/app/tick/filter; echo "write: $?"
    tail -n 3 error_log | sed 's/^\\[[ 0-9.]*\\]//'
    echo > error_log
    mkdir instances/sock_b && ls instances/sock_b | sort && rmdir instances/sock_b; echo "instances: $?"
    mkdir events/nope; echo "mkdir events: $?"
    echo marker-line > trace_marker
    timeout 5 head -n 1 trace_pipe | sed 's/^.*tracing_mark_write/tracing_mark_write/'
    dd if=tracing_on bs=1 count=1 2>/dev/null; echo
    cat no_such_file; echo "cat: $?"
  `;
  const r = sh(script);
  return `${r.out}--\n${r.err.replaceAll(d, 'D')}`;
}

test('ntrace mount: the same files as the app own mount; killing the app ends the proxy', async (t) => {
  const { mnt, proxy, app, m } = await serveAndProxy(t);
  assert.equal(isMountPoint(mnt), true);
  assert.equal(isMountPoint(proxy), true);
  const direct = behaviour(mnt);
  assert.match(direct, /tracing_mark_write: marker-line/);
  assert.match(direct, /Field not found/);
  assert.equal(behaviour(proxy), direct);

  app.child.kill('SIGKILL');
  assert.equal(await m.exited, 3);
  assert.match(m.err(), /went away; .* unmounted/);
  assert.ok(await eventually(() => !isMountPoint(proxy), 5000));
});

test('ntrace mount caches like a direct mount and hears of the app changes (a mkdir/rmdir made elsewhere)', async (t) => {
  const { mnt, proxy } = await serveAndProxy(t);
  const list = () => sh(`ls -1 ${proxy}/instances`).out;
  // Listed and looked up through the proxy: now in its kernel's caches, with the tree's (long) timeouts.
  assert.equal(list(), '');
  assert.equal(sh(`stat -c %F ${proxy}/instances/seen_b`).code, 1);
  assert.equal(sh(`mkdir ${mnt}/instances/seen_b`).code, 0);
  assert.ok(await eventually(() => list() === 'seen_b\n', 5000), `the proxy still lists: ${list()}`);
  assert.equal(sh(`cat ${proxy}/instances/seen_b/tracing_on`).out, '1\n');
  assert.equal(sh(`echo 0 > ${mnt}/instances/seen_b/tracing_on`).code, 0);
  assert.equal(sh(`cat ${proxy}/instances/seen_b/tracing_on`).out, '0\n');
  assert.equal(sh(`rmdir ${mnt}/instances/seen_b`).code, 0);
  assert.ok(await eventually(() => list() === '', 5000), `the proxy still lists: ${list()}`);
  assert.ok(await eventually(() => sh(`stat -c %F ${proxy}/instances/seen_b`).code === 1, 5000));
  // A listing through the proxy of a directory larger than one LISTPLUS batch: every name, once.
  const names = sh(`cd ${mnt} && find . | sort`).out;
  assert.equal(sh(`cd ${proxy} && find . | sort`).out, names);
  assert.equal(sh(`cd ${proxy} && find . | sort`).out, names);
});

test('ntrace mount: a directory of many pages is listed in one trip and looked up from that listing, never stale', async (t) => {
  const { dir } = scratch(t);
  const mnt = join(dir, 'mnt');
  const proxy = join(dir, 'proxy');
  const sock = join(dir, 'big.sock');
  const spec = join(dir, 'big.json');
  // 300 events: more than a kernel READDIR page holds, so the proxy answers later pages from its LISTPLUS reply.
  const events = Array.from({ length: 300 }, (_, i) => ({ name: `e${i}`, fields: [{ name: 'n', type: 'u32' }] }));
  writeFileSync(spec, JSON.stringify({ systems: [{ name: 'big', events }] }));
  await start(
    t,
    [process.execPath, MAIN, 'serve', '--events', spec, '--mount', mnt, '--socket', sock],
    /serving 300 events at .* and /,
  );
  await start(t, [process.execPath, MAIN, 'mount', sock, proxy], /mounted at /);
  const direct = sh(`cd ${mnt}/events/big && ls -f | sort && cat */id`).out;
  assert.equal(direct.split('\n').length, 2 * 300 + 2 + 2 + 1); // names, `.`/`..`, enable/filter, ids
  assert.equal(sh(`cd ${proxy}/events/big && ls -f | sort && cat */id`).out, direct);
  // A name listed (its lookup held by the proxy for the kernel's) then removed by the app: gone at once.
  for (let i = 0; i < 40; i++) assert.equal(sh(`mkdir ${mnt}/instances/i${i}`).code, 0);
  assert.equal(sh(`ls -f ${proxy}/instances | wc -l`).out.trim(), '42');
  assert.equal(sh(`rmdir ${mnt}/instances/i39`).code, 0);
  assert.ok(
    await eventually(() => sh(`stat ${proxy}/instances/i39`).code === 1, 5000),
    'i39 still found through the proxy',
  );
  assert.equal(sh(`stat -c %F ${proxy}/instances/i38`).out, 'directory\n');
  for (let i = 0; i < 39; i++) sh(`rmdir ${mnt}/instances/i${i}`);
});
