/**
 * Killing a serving process at any moment leaves no mount behind (issue 9, part 2; issue 16). For `ntrace serve`, the
 * demo (what `npm start` runs) and an application's mount(): first 6 kills during a clean shutdown (SIGTERM once the
 * mount is up, then SIGKILL 0–100 ms later), which also time how long mounting takes on this machine now; then 30
 * kills at delays spread from 0 to 1.5 s after spawn (to 1.2 times the slowest of those mount times if mounting takes
 * longer under load, so the spread always covers before, while and after the mount is made), with SIGKILL, SIGTERM, SIGINT and SIGHUP in turn. Each time:
 * - the process ends (one that does not within 15 s counts as hung — a signal during mounting waits for the mount to
 *   be made, which takes seconds on a loaded machine, and then unmounts; it is then freed through fusectl and killed);
 * - it dies by the signal it was sent (serve and demo unmount first, then re-raise it);
 * - the mount is gone within 1 s of its death;
 * - a `cat trace_pipe` blocked in the mount when the kill came ends within 1 s of the death (error or EOF).
 * Kills run a few at a time; every wait is bounded.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { exitWithin, forceEnd } from '../support/kill.js';
import { eventually, isMountPoint } from '../support/mount.js';
import { MAIN, oneEventSpec } from '../support/process.js';

const LIBRARY = fileURLToPath(new URL('./library-child.js', import.meta.url));
const KILLS = 30;
const SHUTDOWN_KILLS = 6;
const PARALLEL = 4;
const SIGNALS = ['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGHUP'] as const;
const HUNG_MS = 15_000;

interface Outcome {
  plan: Plan;
  hung: boolean;
  deadMount: boolean;
  readerHung: boolean;
  wrongDeath?: string;
  /** The mount existed when the kill was sent. */
  mounted: boolean;
  /** ms from the process's death until the mount was gone (when it had one). */
  unmountMs?: number;
  /** ms from spawn until the mount appeared (kills during shutdown). */
  mountMs?: number;
  /** For a hung process: its threads and where each waited in the kernel, to tell a diagnosis from a guess. */
  threads?: string;
}

interface Plan {
  readonly delayMs: number;
  readonly signal: NodeJS.Signals;
  /** Send SIGKILL this long after the first signal (a kill during the clean shutdown). */
  readonly thenKillMs?: number;
}

function shutdownPlans(): Plan[] {
  return Array.from({ length: SHUTDOWN_KILLS }, (_, i) => ({
    delayMs: -1,
    signal: 'SIGTERM',
    thenKillMs: (100 * i) / (SHUTDOWN_KILLS - 1),
  }));
}

function spreadPlans(spanMs: number): Plan[] {
  return Array.from({ length: KILLS }, (_, i) => ({
    delayMs: (spanMs * i) / (KILLS - 1),
    signal: SIGNALS[i % SIGNALS.length],
  }));
}

async function killOnce(argv: (mnt: string) => string[], plan: Plan): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'ntrace-kill-'));
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  const spawned = Date.now();
  const proc = spawn(process.execPath, argv(mnt), { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
  let stderr = ''; // what a process that ended the wrong way said
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-400);
  });
  let reader: ChildProcess | undefined;
  let mountMs: number | undefined;
  try {
    if (plan.delayMs >= 0) await new Promise((r) => setTimeout(r, plan.delayMs));
    // Kills during shutdown come once the mount is up.
    else if (await eventually(() => isMountPoint(mnt) || proc.exitCode !== null, 20_000))
      mountMs = Date.now() - spawned;
    const mounted = isMountPoint(mnt);
    if (mounted) {
      reader = spawn('cat', [join(mnt, 'trace_pipe')], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 30));
    }
    proc.kill(plan.signal);
    if (plan.thenKillMs !== undefined) {
      await new Promise((r) => setTimeout(r, plan.thenKillMs));
      proc.kill('SIGKILL');
    }
    const ended = await exitWithin(proc, HUNG_MS);
    const died = Date.now();
    const outcome: Outcome = { plan, hung: !ended, deadMount: false, readerHung: false, mounted, mountMs };
    if (!ended) {
      outcome.threads = threadsOf(proc.pid);
      await forceEnd(mnt, proc);
    } else if (ended.signal !== plan.signal && !(plan.thenKillMs !== undefined && ended.signal === 'SIGKILL')) {
      outcome.wrongDeath = `sent ${plan.signal}, ended by ${ended.signal ?? `exit ${ended.code}`}: ${stderr.trim()}`;
    }
    outcome.deadMount = !(await eventually(() => !isMountPoint(mnt), 1000));
    if (mounted && !outcome.deadMount) outcome.unmountMs = Date.now() - died;
    if (reader) outcome.readerHung = !(await exitWithin(reader, Math.max(100, 1000 - (Date.now() - died))));
    return outcome;
  } finally {
    reader?.kill('SIGKILL');
    await forceEnd(mnt, proc);
    rmSync(dir, { recursive: true, force: true });
  }
}

function threadsOf(pid: number | undefined): string {
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch {
      return '?';
    }
  };
  try {
    return readdirSync(`/proc/${pid}/task`)
      .map((t) => `${read(`/proc/${pid}/task/${t}/comm`)}@${read(`/proc/${pid}/task/${t}/wchan`)}`)
      .join(' ');
  } catch {
    return 'gone';
  }
}

async function runAll(argv: (mnt: string) => string[], todo: Plan[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      for (let plan = todo.shift(); plan; plan = todo.shift()) outcomes.push(await killOnce(argv, plan));
    }),
  );
  return outcomes;
}

async function killMany(argv: (mnt: string) => string[]): Promise<Outcome[]> {
  const shutdown = await runAll(argv, shutdownPlans());
  const slowest = Math.max(...shutdown.map((o) => o.mountMs ?? 0));
  return [...shutdown, ...(await runAll(argv, spreadPlans(Math.max(1500, 1.2 * slowest))))];
}

function check(t: { diagnostic(s: string): void }, outcomes: Outcome[]): void {
  const times = outcomes.flatMap((o) => (o.unmountMs === undefined ? [] : [o.unmountMs])).sort((a, b) => a - b);
  const count = (f: (o: Outcome) => boolean) => outcomes.filter(f).length;
  const mountMs = outcomes.flatMap((o) => (o.mountMs === undefined ? [] : [o.mountMs]));
  t.diagnostic(
    `${outcomes.length} kills: ${count((o) => o.hung)} hung, ${count((o) => o.deadMount)} dead mounts, ` +
      `${count((o) => o.readerHung)} readers hung; ${times.length} while mounted, the mount gone ` +
      `${times[0]}..${times.at(-1)} ms after the death (median ${times[times.length >> 1]}); ` +
      `mounting took up to ${Math.max(...mountMs)} ms`,
  );
  assert.deepEqual(
    outcomes.flatMap((o) =>
      o.hung ? [`${JSON.stringify(o.plan)} ${o.mounted ? 'mounted' : 'not mounted'}; threads: ${o.threads}`] : [],
    ),
    [],
    'processes hung after a kill',
  );
  assert.equal(
    count((o) => o.deadMount),
    0,
    'mounts left behind',
  );
  assert.equal(
    count((o) => o.readerHung),
    0,
    'trace_pipe readers that did not end',
  );
  assert.deepEqual(
    outcomes.flatMap((o) => (o.wrongDeath ? [o.wrongDeath] : [])),
    [],
  );
  assert.ok(
    times.length >= SHUTDOWN_KILLS + 2,
    `only ${times.length} kills came while mounted: the spread missed the mount`,
  );
  assert.ok(outcomes.filter((o) => !o.mounted).length >= 5, 'no kill came before the mount existed');
}

test('ntrace serve: killed at any moment of its life, no mount, no hang', async (t) => {
  const spec = oneEventSpec(t);
  check(t, await killMany((mnt) => [MAIN, 'serve', '--events', spec, '--mount', mnt]));
});

test('the demo (npm start): killed at any moment of its life, no mount, no hang', async (t) => {
  check(t, await killMany((mnt) => [MAIN, 'demo', '--mount', mnt]));
});

test("an application's mount(): killed at any moment of its life, no mount, no hang", async (t) => {
  check(t, await killMany((mnt) => [LIBRARY, mnt]));
});
