/**
 * `npm run bench:node`: what `node --import ntrace/register` costs an HTTP server, against the same server without
 * it, in one run. Each round runs the three configurations back to back, in an order that rotates from round to
 * round, and a ratio is the median over the rounds of that round's ratio: the machine's load drifts over a run (plain
 * alone moved 18–24 k req/s between runs minutes apart), and a round's configurations see the same drift.
 *   - req/s with register and every event disabled vs without ntrace (check: >= 0.98x);
 *   - req/s with node_http enabled and a reader draining trace_pipe (check: >= 0.90x);
 *   - time from spawn to the first answered request, with register vs without (check: + <= 30 ms, medians);
 *   - latency from `echo 1 > enable` to the first recorded event, under load (reported; bounded by the lazy period);
 *   - the same while the app's main thread is busy in a 400 ms loop: enable is written 100 ms into it, a request
 *     is sent at once, and the time to its record is reported with the time after the loop ended;
 *   - where the CPU goes, in µs per request (from /proc, so it holds under load): the app's main thread, its other
 *     threads (FUSE serving thread formatting trace_pipe, V8 helpers), the reader (`cat`), and the load generator
 *     (this process). All run on the same CPUs: a reader's work is taken from the app and the load generator;
 *   - that the reader really read every event: each per_cpu/cpuN/stats' `read events` cover both node_http events of every
 *     request answered since the enable, and nothing was overwritten (check).
 * Exits 1 when a check fails. `--rounds N` (default 5), `--seconds S` per measurement (default 2), `--warmup S` of
 * load before each (default 2), `--json`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { type HttpApp, startHttpApp } from '../support/http-app.js';
import { request } from '../support/http-load.js';
import { threadCpuMicros } from '../support/proc.js';
import { median, round } from '../support/stats.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    json: { type: 'boolean' },
  },
});
const ROUNDS = Number(values.rounds ?? 5);
const SECONDS = Number(values.seconds ?? 2);
/**
 * Seconds of load before each measurement, every configuration alike. V8 optimises a thread's code on background
 * threads during its first seconds of work: with node_http and a reader, that is the emit path and the whole FUSE
 * serving thread, and a 0.3 s warm-up left most of it inside the 2 s measured (its compile threads then took more
 * CPU than the serving thread itself). The ratios are of the steady state; the first request is measured apart.
 */
const WARMUP = Number(values.warmup ?? 2);
const CONCURRENCY = 16;

type Config = 'plain' | 'register' | 'register+node_http';

/** µs of CPU per request, by party. */
interface CpuPerRequest {
  appMain: number;
  appOthers: number;
  reader: number;
  loadGenerator: number;
}

/** Requests per second over `seconds`, CONCURRENCY keep-alive connections; and the CPU each party spent. */
async function load(
  port: number,
  seconds: number,
  app?: ChildProcess,
  reader?: ChildProcess,
): Promise<{ rps: number; requests: number; cpu: CpuPerRequest }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let done = 0;
  const a0 = threadCpuMicros(app?.pid);
  const r0 = threadCpuMicros(reader?.pid);
  const l0 = process.cpuUsage();
  const until = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) if (await request(agent, port)) done++;
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const l1 = process.cpuUsage(l0);
  const a1 = threadCpuMicros(app?.pid);
  const r1 = threadCpuMicros(reader?.pid);
  agent.destroy();
  const per = (us: number) => us / Math.max(1, done);
  return {
    rps: done / elapsed,
    requests: done,
    cpu: {
      appMain: per(a1.main - a0.main),
      appOthers: per(a1.others - a0.others),
      reader: per(r1.main + r1.others - r0.main - r0.others),
      loadGenerator: per(l1.user + l1.system),
    },
  };
}

/** A `cat trace_pipe > /dev/null`, as an operator would leave running. */
function drain(mount: string): ChildProcess {
  return spawn('sh', ['-c', `exec cat ${mount}/trace_pipe > /dev/null`], { stdio: 'ignore' });
}

/** Events read from trace_pipe and overwritten unread, summed over the mount's per-CPU rings. */
function ringCounts(mount: string): { read: number; overrun: number } {
  const out = { read: 0, overrun: 0 };
  for (const cpu of readdirSync(join(mount, 'per_cpu'))) {
    const stats = readFileSync(join(mount, 'per_cpu', cpu, 'stats'), 'utf8');
    out.read += Number(/^read events: (\d+)$/m.exec(stats)?.[1] ?? Number.NaN);
    out.overrun += Number(/^overrun: (\d+)$/m.exec(stats)?.[1] ?? Number.NaN);
  }
  return out;
}

/** ms from enabling server_request to its first record in `trace`, while the server is under load. */
async function enableLatency(server: HttpApp): Promise<number[]> {
  const out: number[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });
  let running = true;
  const loop = (async () => {
    while (running) await request(agent, server.port);
  })();
  const enable = join(server.mount!, 'events/node_http/server_request/enable');
  const trace = join(server.mount!, 'trace');
  for (let i = 0; i < 5; i++) {
    writeFileSync(enable, '0');
    await sleep(300); // the lazy timer unsubscribes
    writeFileSync(trace, '');
    const t0 = performance.now();
    writeFileSync(enable, '1');
    const buf = Buffer.alloc(65536);
    for (;;) {
      const fd = openSync(trace, 'r');
      const n = readSync(fd, buf, 0, buf.length, 0);
      closeSync(fd);
      if (buf.subarray(0, n).includes('server_request:')) break;
      if (performance.now() - t0 > 5000) throw new Error('no server_request record within 5 s');
      await sleep(1);
    }
    out.push(performance.now() - t0);
  }
  writeFileSync(enable, '0');
  running = false;
  await loop;
  agent.destroy();
  return out;
}

/** Time (ms) a request took to answer, and when it ended. */
async function timedRequest(port: number, path: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    }).on('error', reject);
  });
  return performance.now();
}

/**
 * Enable while the app's main thread is busy: a 400 ms busy loop is running (a `/spin` request) when
 * `server_request` is enabled through the mount and a request sent; ms from the enable to that request's record,
 * and from the end of the busy loop (its answer) to the record.
 */
async function busyEnableLatency(
  server: HttpApp,
): Promise<{ fromEnable: number[]; afterBusy: number[]; write: number[] }> {
  const out = { fromEnable: [] as number[], afterBusy: [] as number[], write: [] as number[] };
  const enable = join(server.mount!, 'events/node_http/server_request/enable');
  const trace = join(server.mount!, 'trace');
  const buf = Buffer.alloc(1 << 20);
  for (let i = 0; i < 5; i++) {
    writeFileSync(enable, '0');
    await sleep(300); // the lazy timer unsubscribes
    writeFileSync(trace, '');
    const spinEnd = timedRequest(server.port, '/spin?ms=400');
    await sleep(100);
    const t0 = performance.now();
    writeFileSync(enable, '1');
    out.write.push(performance.now() - t0);
    const path = `/after-busy-${i}`;
    const answered = timedRequest(server.port, path);
    for (;;) {
      const fd = openSync(trace, 'r');
      const n = readSync(fd, buf, 0, buf.length, 0);
      closeSync(fd);
      if (buf.subarray(0, n).includes(`GET ${path} `)) break;
      if (performance.now() - t0 > 5000) throw new Error(`no record of ${path} within 5 s`);
      await sleep(1);
    }
    const t1 = performance.now();
    out.fromEnable.push(t1 - t0);
    out.afterBusy.push(t1 - (await spinEnd));
    await answered;
  }
  writeFileSync(enable, '0');
  return out;
}

const index = mkdtempSync(join(tmpdir(), 'ntrace-bench-node-'));
const configs: Config[] = ['plain', 'register', 'register+node_http'];
const rps: Record<Config, number[]> = { plain: [], register: [], 'register+node_http': [] };
const firstMs: Record<Config, number[]> = { plain: [], register: [], 'register+node_http': [] };
const cpu: Record<Config, CpuPerRequest[]> = { plain: [], register: [], 'register+node_http': [] };
/** Per reader run: node_http events the reader read, the two events per request answered, and events overwritten. */
const readerRuns: { read: number; expected: number; overrun: number }[] = [];
let latencies: number[] = [];
let busy = { fromEnable: [0], afterBusy: [0], write: [0] };
try {
  for (let r = 0; r < ROUNDS; r++) {
    for (const config of configs.map((_, i) => configs[(r + i) % configs.length])) {
      const server = await startHttpApp(config === 'plain' ? {} : { register: { index } });
      let reader: ChildProcess | undefined;
      try {
        firstMs[config].push(server.firstRequestMs);
        if (config === 'register+node_http') {
          writeFileSync(join(server.mount!, 'events/node_http/enable'), '1');
          reader = drain(server.mount!);
          await sleep(500); // subscribed, reader parked
        }
        const warm = await load(server.port, WARMUP);
        const measured = await load(server.port, SECONDS, server.child, reader);
        rps[config].push(measured.rps);
        cpu[config].push(measured.cpu);
        if (reader) {
          // server_request and server_response for every request answered since the enable (and the 500 ms wait
          // had none); the reader is given a moment to take the last ones.
          const expected = 2 * (warm.requests + measured.requests);
          let counts = ringCounts(server.mount!);
          for (let t = 0; t < 50 && counts.read < expected; t++) {
            await sleep(20);
            counts = ringCounts(server.mount!);
          }
          readerRuns.push({ read: counts.read, expected, overrun: counts.overrun });
        }
        if (config === 'register' && r === 0) {
          latencies = await enableLatency(server);
          busy = await busyEnableLatency(server);
        }
      } finally {
        reader?.kill();
        await server.stop();
      }
    }
  }
} finally {
  rmSync(index, { recursive: true, force: true });
}

const roundRatios = (c: Config) => rps[c].map((x, i) => x / rps.plain[i]);
const disabledRatio = median(roundRatios('register'));
const enabledRatio = median(roundRatios('register+node_http'));
const startupDelta = median(firstMs.register) - median(firstMs.plain);
const checks = [
  { name: 'register, all disabled: req/s ratio >= 0.98', ok: disabledRatio >= 0.98 },
  { name: 'register, node_http enabled + reader: req/s ratio >= 0.90', ok: enabledRatio >= 0.9 },
  { name: 'first request: + <= 30 ms', ok: startupDelta <= 30 },
  {
    name: 'the reader read both node_http events of every request, none overwritten',
    ok: readerRuns.length > 0 && readerRuns.every((r) => r.read >= r.expected && r.overrun === 0),
  },
];
const result = {
  rounds: ROUNDS,
  secondsPerRun: SECONDS,
  warmupSeconds: WARMUP,
  concurrency: CONCURRENCY,
  cpus: cpus().length,
  loadavg: round(loadavg()[0], 2),
  reqPerSec: Object.fromEntries(configs.map((c) => [c, round(median(rps[c]), 0)])),
  ratios: { disabled: round(disabledRatio, 3), nodeHttpEnabled: round(enabledRatio, 3) },
  perRound: Object.fromEntries(configs.map((c) => [c, rps[c].map((x) => round(x, 0))])),
  roundRatios: {
    disabled: roundRatios('register').map((x) => round(x, 3)),
    nodeHttpEnabled: roundRatios('register+node_http').map((x) => round(x, 3)),
  },
  firstRequestMs: Object.fromEntries(configs.map((c) => [c, round(median(firstMs[c]), 1)])),
  startupDeltaMs: round(startupDelta, 1),
  readerRuns,
  enableToFirstEventMs: { median: round(median(latencies), 1), max: round(Math.max(...latencies), 1) },
  busyEnable: {
    fromEnableMs: { median: round(median(busy.fromEnable), 1), max: round(Math.max(...busy.fromEnable), 1) },
    afterBusyLoopMs: { median: round(median(busy.afterBusy), 1), max: round(Math.max(...busy.afterBusy), 1) },
    enableWriteMs: { max: round(Math.max(...busy.write), 1) },
  },
  cpuUsPerRequest: Object.fromEntries(
    configs.map((c) => {
      const of = (k: keyof CpuPerRequest) => round(median(cpu[c].map((x) => x[k])), 1);
      return [
        c,
        {
          appMain: of('appMain'),
          appOthers: of('appOthers'),
          reader: of('reader'),
          loadGenerator: of('loadGenerator'),
        },
      ];
    }),
  ),
  checks,
};
if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
else {
  process.stdout.write(
    `bench:node (${ROUNDS} rounds × ${SECONDS} s after ${WARMUP} s of warm-up, ${CONCURRENCY} keep-alive connections, ${result.cpus} CPUs, load ${result.loadavg})\n` +
      configs
        .map(
          (c) =>
            `  ${c.padEnd(20)} ${String(result.reqPerSec[c]).padStart(7)} req/s   first request ${result.firstRequestMs[c]} ms`,
        )
        .join('\n') +
      `\n  ratio, all disabled:           ${result.ratios.disabled} (median of the rounds' ${result.roundRatios.disabled.join(', ')})\n` +
      `  ratio, node_http + reader:     ${result.ratios.nodeHttpEnabled} (median of the rounds' ${result.roundRatios.nodeHttpEnabled.join(', ')})\n` +
      `  startup (first request):       +${result.startupDeltaMs} ms\n` +
      `  reader, events read / expected (overwritten): ${readerRuns.map((r) => `${r.read}/${r.expected} (${r.overrun})`).join(', ')}\n` +
      `  echo 1 > enable → first event: median ${result.enableToFirstEventMs.median} ms, max ${result.enableToFirstEventMs.max} ms\n` +
      `  the same, main thread in a 400 ms busy loop: median ${result.busyEnable.fromEnableMs.median} ms, max ${result.busyEnable.fromEnableMs.max} ms` +
      ` (after the loop ended: median ${result.busyEnable.afterBusyLoopMs.median} ms, max ${result.busyEnable.afterBusyLoopMs.max} ms;` +
      ` the enable write took at most ${result.busyEnable.enableWriteMs.max} ms)\n` +
      '  CPU µs per request (same 2 CPUs for all):  app main   app other threads   reader   load generator\n' +
      configs
        .map((c) => {
          const x = result.cpuUsPerRequest[c];
          return `    ${c.padEnd(20)} ${String(x.appMain).padStart(17)} ${String(x.appOthers).padStart(19)} ${String(x.reader).padStart(8)} ${String(x.loadGenerator).padStart(16)}`;
        })
        .join('\n') +
      '\n' +
      checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}`).join('\n') +
      '\n',
  );
}
if (checks.some((c) => !c.ok)) process.exitCode = 1;
