/**
 * A non-root user (issue 9, part 3): the demo (what `npm start` runs after building) and an application's mount()
 * work the first time, through fusermount3; the mount belongs to that user; killing the process leaves no mount and
 * no hung process, also while one of its threads waits in a request to its own mount (issue 16). The test creates
 * the user when it does not exist (CI runs as root) and removes it afterwards. The user runs a copy of dist/,
 * package.json and the runtime dependencies in a world-readable temporary directory (the checkout may not be
 * reachable by others). Where /dev/fuse is root-only
 * (fusermount3 opens it with the caller's rights), the user's commands run in a mount namespace of their own in
 * which a 0666 copy of the device node is bound over /dev/fuse; fusermount3 is the real, setuid one.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const USER = 'ntrace-test';
const DIST = fileURLToPath(new URL('../../', import.meta.url));
const REPO = join(DIST, '..');

/** The package's runtime dependencies, transitively, into `top`/node_modules (what an install would bring). */
function copyRuntimeDependencies(top: string): void {
  const deps = (dir: string) =>
    Object.keys(
      (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: object }).dependencies ?? {},
    );
  const todo = deps(REPO);
  const done = new Set<string>();
  for (let name = todo.shift(); name !== undefined; name = todo.shift()) {
    if (done.has(name)) continue;
    done.add(name);
    const from = join(REPO, 'node_modules', name);
    cpSync(from, join(top, 'node_modules', name), { recursive: true });
    todo.push(...deps(from));
  }
}

interface Sandbox {
  readonly uid: number;
  readonly gid: number;
  /** Copy of dist/, readable by the user. */
  readonly dist: string;
  /** A directory the user owns. */
  readonly work: string;
}

function sandbox(t: TestContext): Sandbox {
  if (spawnSync('id', ['-u', USER]).status !== 0) {
    const r = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', USER], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `useradd: ${r.stderr}`);
    t.after(() => spawnSync('userdel', [USER]));
  }
  const uid = Number(spawnSync('id', ['-u', USER], { encoding: 'utf8' }).stdout);
  const gid = Number(spawnSync('id', ['-g', USER], { encoding: 'utf8' }).stdout);
  const top = mkdtempSync(join(tmpdir(), 'ntrace-nonroot-'));
  t.after(() => {
    // Whatever the user left mounted in our namespace (nothing, if all went well) is detached before removal.
    spawnSync('sh', ['-c', `grep -o ' ${top}/[^ ]*' /proc/self/mountinfo | xargs -r -n1 umount -l`]);
    rmSync(top, { recursive: true, force: true });
  });
  chmodSync(top, 0o755);
  const dist = join(top, 'dist');
  cpSync(DIST, dist, { recursive: true });
  cpSync(join(REPO, 'package.json'), join(top, 'package.json'));
  copyRuntimeDependencies(top);
  const work = join(top, 'work');
  mkdirSync(work);
  chownSync(work, uid, gid);
  return { uid, gid, dist, work };
}

/** Runs `script` as the user (sh, with $DIST and $WORK set), with a usable /dev/fuse. */
function runAsUser(s: Sandbox, script: string): { status: number | null; out: string; err: string } {
  const asUser = ['setpriv', `--reuid=${s.uid}`, `--regid=${s.gid}`, '--clear-groups', '--'];
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: s.work,
    DIST: s.dist,
    WORK: s.work,
    NODE: process.execPath,
  };
  const userScript = ['sh', '-c', script];
  const worldUsable = (statSync('/dev/fuse').mode & 0o006) === 0o006;
  const r = worldUsable
    ? spawnSync(asUser[0], [...asUser.slice(1), ...userScript], { encoding: 'utf8', env, timeout: 120_000 })
    : spawnSync(
        'unshare',
        [
          '-m',
          '--propagation',
          'private',
          'sh',
          '-c',
          'node=$WORK/../fuse-dev; cp -a /dev/fuse $node && chmod 666 $node && mount --bind $node /dev/fuse && exec "$@"',
          'sh',
          ...asUser,
          ...userScript,
        ],
        { encoding: 'utf8', env, timeout: 120_000 },
      );
  return { status: r.status, out: r.stdout, err: r.stderr };
}

/** `key value` lines of the script's output. */
function field(out: string, key: string): string | undefined {
  return out
    .split('\n')
    .find((l) => l.startsWith(`${key} `))
    ?.slice(key.length + 1);
}

const WAIT_FOR = `wait_for() { i=0; until sh -c "$1"; do i=$((i+1)); [ $i -gt 300 ] && return 1; sleep 0.1; done; }`;

test('a non-root user runs the demo the first time: its mount is theirs, trace_pipe streams, Ctrl-C unmounts', (t) => {
  const s = sandbox(t);
  const r = runAsUser(
    s,
    `${WAIT_FOR}
cd "$WORK"
"$NODE" "$DIST/src/cli/main.js" demo > demo.out 2>&1 &
pid=$!
wait_for 'grep -q trace_pipe demo.out || ! kill -0 '$pid
echo "owner $(stat -c '%u:%g %a' tracing)"
echo 1 > tracing/events/http/enable && echo "enabled yes"
echo "pipe $(timeout 10 head -n 2 tracing/trace_pipe | grep -c ': request_')"
kill -INT $pid; wait $pid; echo "status $?"
echo "mounted $(grep -c " $WORK/tracing " /proc/self/mountinfo)"
echo "left $(ls -A "$WORK" | grep -v demo.out | wc -l)"
sed 's/^/demo: /' demo.out`,
  );
  assert.equal(r.status, 0, r.err);
  assert.equal(field(r.out, 'owner'), `${s.uid}:${s.gid} 700`, r.out);
  assert.equal(field(r.out, 'enabled'), 'yes', r.out);
  assert.equal(field(r.out, 'pipe'), '2', r.out);
  assert.equal(field(r.out, 'status'), '130', r.out); // died by SIGINT, after unmounting
  assert.equal(field(r.out, 'mounted'), '0', r.out);
  assert.equal(field(r.out, 'left'), '0', r.out); // ./tracing was made by the demo and removed again
});

test("a non-root user's mount(): theirs by default, and gone at once when the process is killed, even mid-request", (t) => {
  const s = sandbox(t);
  const r = runAsUser(
    s,
    `${WAIT_FOR}
cd "$WORK"; mkdir lib stall
"$NODE" "$DIST/test/cli/library-child.js" "$WORK/lib" > lib.out 2>&1 &
pid=$!
wait_for 'grep -q ready lib.out || ! kill -0 '$pid
echo "owner $(stat -c '%u:%g %a' lib)"
echo "tracing_on $(cat lib/tracing_on)"
echo hello > lib/trace_marker && echo "marker $(grep -c 'tracing_mark_write: hello' lib/trace)"
kill -KILL $pid; wait $pid
wait_for '! grep -q " $WORK/lib " /proc/self/mountinfo' && echo "killed unmounted"
"$NODE" "$DIST/test/fuse/mount-child.js" "$WORK/stall" stall > stall.out 2>&1 &
pid=$!
wait_for 'grep -q stalling stall.out || ! kill -0 '$pid
kill -KILL $pid
if timeout 3 tail --pid=$pid -f /dev/null; then echo "stalled exited"; else echo "stalled hung"; fi
wait_for '! grep -q " $WORK/stall " /proc/self/mountinfo' && echo "stalled unmounted"
sed 's/^/lib: /' lib.out; sed 's/^/stall: /' stall.out`,
  );
  assert.equal(r.status, 0, r.err);
  assert.equal(field(r.out, 'owner'), `${s.uid}:${s.gid} 700`, r.out);
  assert.equal(field(r.out, 'tracing_on'), '1', r.out);
  assert.equal(field(r.out, 'marker'), '1', r.out);
  assert.equal(field(r.out, 'killed'), 'unmounted', r.out);
  assert.equal(field(r.out, 'stalled'), 'exited', r.out);
  assert.ok(r.out.includes('stalled unmounted'), r.out);
});
