/**
 * `npm run bench:socket`: the socket transport against the FUSE mount of the same application, in one run.
 * - drain: `ntrace cat SOCKET trace_pipe | head -n N` vs `cat MOUNT/trace_pipe | head -n N` (lines/s from the first
 *   line out to the Nth, so `ntrace`'s Node start-up — printed apart, with the wall rate — is not set against a
 *   `cat` that starts in a millisecond; goal ≥ 1.0×);
 * - control-file latency: one write + one read of a control file, over the socket client vs node:fs on the mount
 *   (µs per pair; goal ≤ 1.5×);
 * - `ntrace mount` of the socket vs the app's own mount: cold `find` and `cat events/* /* /id` (goal ≤ 2×), two ways:
 *   `proxy` against this app, which serves its FUSE mount and its socket from one thread (the goal's figure), and
 *   `proxyNoFuse` against a second app of the same tree served on its socket alone (`fuse: false`: the case the
 *   proxy exists for, whose socket requests wake the tree's thread without the FUSE helper), both against this
 *   app's own mount in the same rounds.
 * Checks (each can fail the run): every drain got N lines, both transports read the same control values, and the
 * proxy lists the same tree and the same ids as the mount.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { MountClient, SocketClient } from '../../src/client/index.js';
import { kernelEventsPath } from '../../test/support/paths.js';
import { dropCaches, isMounted, sh, timed, waitFor } from '../support/shell.js';
import { median, round } from '../support/stats.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const APP = fileURLToPath(new URL('./app.js', import.meta.url));
const LINES = Number(process.env.BENCH_LINES ?? 200_000);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 10_000);
const ROUNDS = 3;
/** Lines beyond N, more than a pipe buffer holds. */
const MARGIN = 5000;
const checks: Record<string, boolean> = {};

function waitLine(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (c: Buffer) => {
      buf += c.toString();
      if (buf.includes(`${line}\n`)) {
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', () => reject(new Error(`the app exited before '${line}'`)));
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ntrace-bench-socket-'));
  const mnt = join(dir, 'mnt');
  const proxy = join(dir, 'proxy');
  const sock = join(dir, 'app.sock');
  mkdirSync(mnt);
  mkdirSync(proxy);
  const app = spawn(process.execPath, [APP, mnt, sock, kernelEventsPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  let mountProc: ChildProcess | undefined;
  let aloneProc: ChildProcess | undefined;
  let aloneMountProc: ChildProcess | undefined;
  const alone = join(dir, 'alone');
  const aloneProxy = join(dir, 'alone-proxy');
  const aloneSock = join(dir, 'alone.sock');
  mkdirSync(alone);
  mkdirSync(aloneProxy);
  try {
    await waitLine(app, 'ready');
    const results: Record<string, unknown> = { load: loadavg().map((l) => round(l, 2)), cpus: cpus().length };

    // 1. Drain: fill the buffer, drain N lines through each transport, alternating. Like for like, the rate is
    // timed from the first line to the Nth at the end of the pipeline (`cat` starts in a millisecond, `ntrace` is a
    // Node process: its start-up is reported on its own, with the wall rate that includes it).
    const drain = { fuse: [] as number[], socket: [] as number[] };
    const wall = { fuse: [] as number[], socket: [] as number[] };
    const firstLineMs = { fuse: [] as number[], socket: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const via of ['fuse', 'socket'] as const) {
        // More than N: the reader's next write after `head` exits is what ends it (SIGPIPE/EPIPE).
        app.stdin?.write(`emit ${LINES + MARGIN}\n`);
        await waitLine(app, 'emitted');
        const reader = via === 'fuse' ? `cat ${mnt}/trace_pipe` : `${process.execPath} ${MAIN} cat ${sock} trace_pipe`;
        const t = Date.now();
        // The pipeline prints: when the first line came out (ns), how many came after it, when the last did.
        const [first, rest, last] = sh(
          `${reader} | head -n ${LINES} | { IFS= read -r _; date +%s%N; wc -l; date +%s%N; }`,
        )
          .trim()
          .split(/\s+/)
          .map(Number);
        const steadyMs = (last - first) / 1e6;
        const wallMs = last / 1e6 - t;
        checks[`drain ${via} got every line`] = (checks[`drain ${via} got every line`] ?? true) && rest + 1 === LINES;
        drain[via].push((rest / steadyMs) * 1000);
        wall[via].push((LINES / wallMs) * 1000);
        firstLineMs[via].push(first / 1e6 - t);
        sh(`echo > ${mnt}/trace`); // what a round left unread does not feed the next
      }
    }
    const fuseLps = median(drain.fuse);
    const sockLps = median(drain.socket);
    results.drain = {
      lines: LINES,
      fuseLinesPerS: Math.round(fuseLps),
      socketLinesPerS: Math.round(sockLps),
      ratio: round(sockLps / fuseLps, 2),
      goal: '>= 1.0',
      firstLineMs: { fuse: round(median(firstLineMs.fuse)), socket: round(median(firstLineMs.socket)) },
      withStartup: {
        fuseLinesPerS: Math.round(median(wall.fuse)),
        socketLinesPerS: Math.round(median(wall.socket)),
        ratio: round(median(wall.socket) / median(wall.fuse), 2),
      },
    };

    // 2. Control-file latency: write + read pairs, interleaved rounds.
    const socketClient = await SocketClient.connect(sock);
    const mountClient = new MountClient(mnt);
    const file = 'events/bench/line/enable';
    const lat = { fuse: [] as number[], socket: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const [via, c] of [
        ['fuse', mountClient],
        ['socket', socketClient],
      ] as const) {
        const n = Math.ceil(PAIRS / ROUNDS);
        let same = true;
        const t = performance.now();
        for (let i = 0; i < n; i++) {
          await c.writeFile(file, i & 1 ? '1' : '0');
          same &&= Buffer.from(await c.readFile(file)).toString() === (i & 1 ? '1\n' : '0\n');
        }
        lat[via].push(((performance.now() - t) / n) * 1000);
        checks[`latency ${via} read back every write`] =
          (checks[`latency ${via} read back every write`] ?? true) && same;
      }
    }
    await socketClient.close();
    const fuseUs = median(lat.fuse);
    const sockUs = median(lat.socket);
    results.controlLatency = {
      pairs: PAIRS,
      fuseUsPerPair: round(fuseUs),
      socketUsPerPair: round(sockUs),
      ratio: round(sockUs / fuseUs, 2),
      goal: '<= 1.5',
    };

    // 3. ntrace mount vs the app's own mount, cold.
    mountProc = spawn(process.execPath, [MAIN, 'mount', sock, proxy], { stdio: ['ignore', 'pipe', 'inherit'] });
    if (!(await waitFor(() => isMounted(proxy), 30_000))) throw new Error('ntrace mount did not mount');
    checks['proxy lists the same tree'] =
      sh(`cd ${mnt} && find . | sort`) === sh(`cd ${proxy} && find . | sort`) &&
      sh(`cd ${mnt} && cat events/*/*/id`) === sh(`cd ${proxy} && cat events/*/*/id`);
    aloneProc = spawn(process.execPath, [APP, alone, aloneSock, kernelEventsPath, 'no-fuse'], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, NTRACE_QUIET: '1' },
    });
    await waitLine(aloneProc, 'ready');
    aloneMountProc = spawn(process.execPath, [MAIN, 'mount', aloneSock, aloneProxy], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (!(await waitFor(() => isMounted(aloneProxy), 30_000)))
      throw new Error('ntrace mount (no-fuse app) did not mount');
    // Same spec, same tree: only the ids of the app's own event may differ between the two apps (none here).
    checks['proxy of the socket-alone app lists the same tree'] =
      sh(`cd ${mnt} && find . | sort`) === sh(`cd ${aloneProxy} && find . | sort`) &&
      sh(`cd ${mnt} && cat events/*/*/id`) === sh(`cd ${aloneProxy} && cat events/*/*/id`);
    const meta: Record<string, { mount: number[]; proxy: number[]; proxyNoFuse: number[] }> = {
      find: { mount: [], proxy: [], proxyNoFuse: [] },
      catIds: { mount: [], proxy: [], proxyNoFuse: [] },
    };
    for (let r = 0; r < ROUNDS; r++) {
      for (const [via, d] of [
        ['mount', mnt],
        ['proxy', proxy],
        ['proxyNoFuse', aloneProxy],
      ] as const) {
        dropCaches();
        meta.find[via].push(timed(`find ${d}`, 'discard'));
        dropCaches();
        meta.catIds[via].push(timed(`cd ${d} && cat events/*/*/id`, 'discard'));
      }
    }
    const proxyFigures = (via: 'proxy' | 'proxyNoFuse') =>
      Object.fromEntries(
        Object.entries(meta).map(([k, v]) => [
          k,
          {
            mountMs: round(median(v.mount)),
            proxyMs: round(median(v[via])),
            ratio: round(median(v[via]) / median(v.mount), 2),
            goal: '<= 2',
          },
        ]),
      );
    // The goal's figure: the proxy of an app that also serves its own FUSE mount (kept as it always was printed).
    results.proxy = proxyFigures('proxy');
    // The case the proxy exists for: an app served by its socket alone, against the first app's own mount.
    results.proxyNoFuse = proxyFigures('proxyNoFuse');
    results.checks = checks;
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    if (Object.values(checks).some((ok) => !ok)) process.exitCode = 1;
  } finally {
    for (const p of [mountProc, aloneMountProc]) {
      if (!p) continue;
      p.kill('SIGINT');
      await new Promise((r) => p.once('exit', r));
    }
    if (aloneProc) {
      aloneProc.stdin?.end();
      aloneProc.kill('SIGINT');
      await new Promise((r) => aloneProc?.once('exit', r));
    }
    app.stdin?.end();
    app.kill('SIGINT');
    await new Promise((r) => app.once('exit', r));
    for (const d of [proxy, aloneProxy, mnt]) if (isMounted(d)) sh(`umount -l ${d}`);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
