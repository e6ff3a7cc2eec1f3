/** The per-user process index: atomic entries, a safe directory, pruning of dead processes and reused pids. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { announce, ensureIndexDirectory, indexDirectory, listLive } from '../../src/discovery/index.js';
import { mountTracefs } from '../tracefs/helpers.js';

function tempIndex(t: TestContext): string {
  const parent = mkdtempSync(join(tmpdir(), 'ntrace-index-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  return join(parent, 'ntrace');
}

test('the directory follows the user: /run/ntrace for root, XDG_RUNTIME_DIR or /tmp/ntrace-UID otherwise', () => {
  assert.equal(indexDirectory({}, 0), '/run/ntrace');
  assert.equal(indexDirectory({ XDG_RUNTIME_DIR: '/run/user/1000' }, 1000), '/run/user/1000/ntrace');
  assert.equal(indexDirectory({}, 1000), '/tmp/ntrace-1000');
  assert.equal(indexDirectory({ XDG_RUNTIME_DIR: 'relative' }, 1000), '/tmp/ntrace-1000');
});

test('announce writes an entry listLive returns; remove deletes it', (t) => {
  const dir = tempIndex(t);
  const a = announce({ mount: '/somewhere' }, dir);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(a.path).mode & 0o777, 0o600);
  const [e, ...rest] = listLive(dir);
  assert.deepEqual(rest, []);
  assert.equal(e.pid, process.pid);
  assert.equal(e.mount, '/somewhere');
  assert.equal(e.uid, process.getuid?.());
  assert.equal(e.argv[0], process.execPath);
  assert.ok(Math.abs(e.startedAt - (Date.now() - process.uptime() * 1000)) < 1000);
  a.update({ socket: '/run/x.sock' });
  assert.equal(listLive(dir)[0].socket, '/run/x.sock');
  assert.equal(listLive(dir)[0].mount, '/somewhere');
  a.remove();
  a.remove();
  assert.deepEqual(listLive(dir), []);
  assert.deepEqual(readdirSync(dir), [], 'no temporary file left behind');
});

test('a directory other users can reach or do not own is refused', (t) => {
  const dir = tempIndex(t);
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
  assert.throws(() => announce({}, dir), /open to other users \(mode 755\); expected 700/);
  chmodSync(dir, 0o700);
  if (process.getuid?.() === 0) {
    chownSync(dir, 65534, 65534);
    assert.throws(() => ensureIndexDirectory(dir), /belongs to uid 65534, not to us/);
  }
});

test('entries of dead processes, reused pids and garbage are pruned', async (t) => {
  const dir = tempIndex(t);
  const mod = new URL('../../src/discovery/index.js', import.meta.url).href;
  // A child announces itself with a default mount directory under the index, then is killed outright.
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { announce } from ${JSON.stringify(mod)}; import { mkdirSync } from 'node:fs';
       const m = ${JSON.stringify(dir)} + '/' + process.pid;
       announce({ mount: m }, ${JSON.stringify(dir)}); mkdirSync(m); console.log('ready'); setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.after(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the child exited (${code})`)));
  });
  assert.deepEqual(
    listLive(dir).map((e) => e.pid),
    [child.pid],
  );
  const own = announce({}, dir);
  // Our pid with another start time: a process that died and whose pid was handed to us.
  writeFileSync(join(dir, `${process.pid}-0-999.json`), JSON.stringify({ ...own.entry, startTicks: '1' }));
  writeFileSync(join(dir, 'junk.json'), '{not json');
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.deepEqual(
    listLive(dir).map((e) => e.pid),
    [process.pid],
  );
  assert.deepEqual(readdirSync(dir), [own.path.slice(dir.length + 1)], 'dead entries and their mount dir removed');
  own.remove();
});

test('an entry left by a process that exits normally is removed by its exit hook', async (t) => {
  const dir = tempIndex(t);
  const mod = new URL('../../src/discovery/index.js', import.meta.url).href;
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { announce } from ${JSON.stringify(mod)}; announce({}, ${JSON.stringify(dir)}); process.exitCode = 3;`,
    ],
    { stdio: 'inherit' },
  );
  const code = await new Promise((r) => child.once('exit', r));
  assert.equal(code, 3);
  assert.deepEqual(readdirSync(dir), []);
});

test('every tracefs mount announces itself while it is mounted', async (t) => {
  const dir = tempIndex(t);
  const saved = process.env.NTRACE_INDEX_DIR;
  process.env.NTRACE_INDEX_DIR = dir;
  t.after(() => {
    if (saved === undefined) delete process.env.NTRACE_INDEX_DIR;
    else process.env.NTRACE_INDEX_DIR = saved;
  });
  const m = await mountTracefs(t);
  assert.deepEqual(
    listLive(dir).map((e) => [e.pid, e.mount]),
    [[process.pid, m.mountpoint]],
  );
  await m.close();
  assert.deepEqual(listLive(dir), []);
  assert.equal(existsSync(dir), true);
});
