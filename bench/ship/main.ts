/**
 * Shipping to ClickHouse, on one small ClickHouse server started here (temp dir, loopback, 2 threads).
 *
 *   npm run bench:ship [-- --json]
 *
 * 1. Sustained rate: this process mounts with `ship` (an `ntrace ship` child reads the mount) and emits
 *    `bench_ship:req` (3 ints + a string) paced at RATE events/s for SECONDS, while ClickHouse's row count is
 *    sampled every 200 ms; then everything must arrive and the mount closes. The shipping rate is the slope of the
 *    stored count over the paced window (least squares, first second left out), against the offered RATE as its
 *    peer. Checks: every event is in ClickHouse once (count and distinct seq), nothing lost (no `lost` row, no
 *    overrun), the last row stored within 2.5 s of the last emit (the shipper kept up rather than fell behind),
 *    and the rate ≥ 200,000/s.
 * 2. Emit cost while shipping vs not: the same emit loop, in interleaved rounds, with the event recorded by an
 *    instance nobody reads (peer) and by the shipper's instance while the child ships. Fastest round of each;
 *    check: ratio ≤ 1.1.
 * 3. An HTTP app's req/s with shipping on vs off: bench/node's server under `--import ntrace/register`, rounds
 *    alternating between NTRACE_CLICKHOUSE set (node_http events shipped) and not, median of each, the load
 *    generator in this process. Checks: ratio ≥ 0.95, and the shipping rounds' node_http rows are in ClickHouse.
 * 4. `ntrace hist` over 10 M rows (inserted server-side from system.numbers): the exactly-once query (LIMIT 1 BY the
 *    dedupe key) and, as its peer, the raw one (`--raw`). Check: exactly-once ≤ 2 s.
 *
 * Everything shares the machine (the application, the shipper, the server and the load), as on one host of a fleet.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { fleetHist } from '../../src/fleet/index.js';
import { defineEvent, mount } from '../../src/index.js';
import { ClickHouseCluster } from '../../test/support/clickhouse.js';
import { load, request } from '../support/http-load.js';
import { median, round } from '../support/stats.js';

const json = process.argv.includes('--json');
const RATE = Number(process.env.SHIP_RATE ?? 250_000);
const SECONDS = Number(process.env.SHIP_SECONDS ?? 5);
const HTTP_ROUNDS = Number(process.env.SHIP_HTTP_ROUNDS ?? 4);
const HTTP_SECONDS = Number(process.env.SHIP_HTTP_SECONDS ?? 2);
const HIST_ROWS = 10_000_000;
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const httpServer = fileURLToPath(new URL('../node/server.js', import.meta.url));

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Least-squares slope of y over x. */
function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return num / den;
}

const req = defineEvent('bench_ship', 'req', { status: 'u16', dur: 'u32', bytes: 'u32', url: 'string' });
const results: Record<string, unknown> = { load: loadavg().map((x) => round(x, 2)) };
const checks: Record<string, boolean> = {};

function emitLoop(n: number, base: number): void {
  for (let i = 0; i < n; i++) {
    const k = base + i;
    req.emit({ status: 200 + (k % 5), dur: k % 100_000, bytes: k & 0xffff, url: `/api/v1/items/${k % 97}` });
  }
}

const ch = await ClickHouseCluster.start(1);
const root = mkdtempSync(join(tmpdir(), 'ntrace-bench-ship-'));
try {
  const url = ch.servers[0].url;
  const q = async (sql: string) => (await ch.query(sql)).trim();
  const stored = async () => Number(await q('SELECT count() FROM bench.bench_ship_req').catch(() => '0'));
  const mnt = join(root, 'mnt');
  mkdirSync(mnt);

  // 1 + 2: one mount shipping bench_ship:req.
  const m = await mount(mnt, {
    ship: { clickhouse: url, database: 'bench', events: ['bench_ship'], spoolDir: join(root, 'spool') },
  });
  let emitted = 0;
  let shipperPid = 0;
  let shipperCpu = 0;
  let serverCpu = 0;
  let rate = 0;
  let paced = 0;
  let lagS = Number.POSITIVE_INFINITY;
  try {
    // 2. Emit cost: rounds alternate between shipping (the child's instance records) and a peer instance nobody reads.
    const shipInstance = readdirSync(join(mnt, 'instances')).find((n) => n.startsWith('ship-'))!;
    mkdirSync(join(mnt, 'instances', 'peer'));
    const ringKb = readFileSync(join(mnt, 'instances', shipInstance, 'buffer_size_kb'), 'utf8').trim();
    writeFileSync(join(mnt, 'instances', 'peer', 'buffer_size_kb'), ringKb);
    const enable = (inst: string, on: boolean) =>
      writeFileSync(join(mnt, 'instances', inst, 'events', 'bench_ship', 'req', 'enable'), on ? '1' : '0');
    // Both rings written all round once first: a ring's first pass pays the page faults of fresh memory (3-4x the
    // emit cost here), once per ring, which is not what this compares.
    const fill = Math.ceil((Number(ringKb) * 1024) / 40);
    for (const inst of [shipInstance, 'peer']) {
      enable(shipInstance, inst === shipInstance);
      enable('peer', inst === 'peer');
      for (let done = 0; done < fill; done += 10_000) {
        emitLoop(10_000, emitted);
        if (inst === shipInstance) emitted += 10_000;
        // The shipped ring at the offered rate (faster, it would overrun before the paced window starts).
        await sleep(inst === shipInstance ? (10_000 / RATE) * 1000 : 1);
      }
    }
    const N = 20_000;
    const cost = { shipping: Number.POSITIVE_INFINITY, peer: Number.POSITIVE_INFINITY };
    for (let r = 0; r < 20; r++) {
      const shipping = r % 2 === 0;
      enable(shipInstance, shipping);
      enable('peer', !shipping);
      const s = process.hrtime.bigint();
      emitLoop(N, emitted);
      const ns = Number(process.hrtime.bigint() - s) / N;
      emitted += shipping ? N : 0;
      if (shipping) cost.shipping = Math.min(cost.shipping, ns);
      else cost.peer = Math.min(cost.peer, ns);
      await sleep(30);
    }
    enable('peer', false);
    enable(shipInstance, true);
    rmdirSync(join(mnt, 'instances', 'peer'));
    results.emitNs = {
      shipping: round(cost.shipping),
      peer: round(cost.peer),
      ratio: round(cost.shipping / cost.peer, 3),
    };
    checks['emit cost shipping / not <= 1.1'] = cost.shipping / cost.peer <= 1.1;

    // Everything so far is stored before the paced window starts.
    for (const end = Date.now() + 20_000; Date.now() < end && (await stored()) < emitted; ) await sleep(100);

    // 1. Sustained rate: paced emits, 1 ms slices; the stored count sampled every 200 ms.
    shipperPid = Number(shipInstance.slice(5));
    const shipperCpu0 = cpuSeconds(shipperPid);
    const serverCpu0 = cpuSeconds(ch.servers[0].child?.pid ?? 0);
    const samples: [number, number][] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const n = await stored();
        samples.push([performance.now(), n]);
        await sleep(200);
      }
    })();
    const perMs = RATE / 1000;
    const t0 = performance.now();
    const end = t0 + SECONDS * 1000;
    let due = 0;
    while (performance.now() < end) {
      const target = Math.floor((performance.now() - t0) * perMs);
      if (target > due) {
        emitLoop(target - due, emitted);
        emitted += target - due;
        due = target;
      }
      await new Promise((res) => setImmediate(res));
    }
    paced = due;
    const tEnd = performance.now();
    sampling = false;
    await sampler;
    // Until everything is stored, or nothing more arrived for 2 s (records were lost).
    for (let last = -1, since = performance.now(); performance.now() - since < 2000; await sleep(50)) {
      const n = await stored();
      if (n !== last) [last, since] = [n, performance.now()];
      if (n >= emitted) {
        lagS = (performance.now() - tEnd) / 1000;
        break;
      }
    }
    shipperCpu = cpuSeconds(shipperPid) - shipperCpu0;
    serverCpu = cpuSeconds(ch.servers[0].child?.pid ?? 0) - serverCpu0;
    const window = samples.filter(([t]) => t >= t0 + 1000 && t <= tEnd).map(([t, n]) => [t / 1000, n] as const);
    rate = window.length >= 3 ? slope(window) : 0;
  } finally {
    await m.close();
  }
  const count = await stored();
  const seqs = Number(await q('SELECT uniqExact(common_seq) FROM bench.bench_ship_req'));
  const lost = await q("SELECT count() FROM system.tables WHERE database = 'bench' AND name = 'lost'");
  const lostRows = lost === '1' ? Number(await q('SELECT count() FROM bench.lost')) : 0;
  results.sustained = {
    offeredPerS: RATE,
    seconds: SECONDS,
    paced,
    stored: count,
    distinctSeq: seqs,
    lostRows,
    eventsPerS: Math.round(rate),
    ratioToOffered: round(rate / RATE, 3),
    lastRowAfterLastEmitS: Number.isFinite(lagS) ? round(lagS, 2) : 'never (records lost)',
    // Per CPU-second of the shipper (what it would do with a core to itself) and of the ClickHouse server.
    storedPerShipperCpuS: Math.round(paced / shipperCpu),
    storedPerServerCpuS: Math.round(paced / serverCpu),
  };
  checks['every event stored once'] = count === emitted && seqs === emitted;
  checks['nothing lost'] = lostRows === 0;
  checks['kept up: last row stored <= 2.5 s after the last emit'] = lagS <= 2.5;
  checks['sustained >= 200,000 events/s'] = rate >= 200_000;

  // 3. An HTTP app's req/s, shipping node_http on vs off.
  const rps = { on: [] as number[], off: [] as number[] };
  for (let r = 0; r < HTTP_ROUNDS; r++) {
    for (const shipping of [false, true]) {
      const app = await startApp(root, shipping ? url : undefined);
      try {
        await load(app.port, 0.3, 16); // warm-up
        (shipping ? rps.on : rps.off).push(await load(app.port, HTTP_SECONDS, 16));
      } finally {
        await app.stop();
      }
    }
  }
  const httpRows = Number(
    await q(
      "SELECT sum(rows) FROM system.parts WHERE database = 'bench_http' AND table LIKE 'node_http_%' AND active",
    ).catch(() => '0'),
  );
  const httpRatio = median(rps.on) / median(rps.off);
  results.httpReqPerS = {
    shippingOn: Math.round(median(rps.on)),
    shippingOff: Math.round(median(rps.off)),
    ratio: round(httpRatio, 3),
    rounds: { on: rps.on.map((x) => Math.round(x)), off: rps.off.map((x) => Math.round(x)) },
    shippedRows: httpRows,
  };
  checks['app req/s shipping on / off >= 0.95'] = httpRatio >= 0.95;
  checks['the app shipped its node_http events'] = httpRows > 0;

  // 4. hist over 10 M rows.
  await q(
    `INSERT INTO bench.bench_ship_req (common_ts, common_ts_ns, common_host, common_service, common_pid, common_cpu, common_comm, common_seq, common_batch, common_batch_rows, status, dur, bytes, url) SELECT toDateTime(1796300000 + intDiv(number, 100000)), 1796300000000000000 + number * 1000, concat('host', toString(number % 4)), 'svc', 1000 + number % 4, 0, 'node', number, 1 + intDiv(number, 50000), 50000, 200 + number % 5, number % 100000, number % 65536, concat('/api/v1/items/', toString(number % 97)) FROM system.numbers LIMIT ${HIST_ROWS}`,
  );
  const spec = 'hist:keys=url:vals=hitcount,dur:sort=dur.descending';
  const time = async (raw: boolean) => {
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3; i++) {
      const s = performance.now();
      await fleetHist(spec, 'bench_ship:req', { clickhouse: url, database: 'bench', raw });
      best = Math.min(best, performance.now() - s);
    }
    return best;
  };
  const exact = await time(false);
  const raw = await time(true);
  results.hist10M = {
    rows: HIST_ROWS + count,
    exactMs: Math.round(exact),
    rawMs: Math.round(raw),
    ratio: round(exact / raw, 2),
  };
  checks['hist over 10 M rows <= 2 s'] = exact <= 2000;
} finally {
  await ch.stop();
  rmSync(root, { recursive: true, force: true });
}
results.checks = checks;
if (json) process.stdout.write(`${JSON.stringify(results)}\n`);
else {
  for (const [k, v] of Object.entries(results)) process.stdout.write(`${k}: ${JSON.stringify(v)}\n`);
}
if (Object.values(checks).some((ok) => !ok)) process.exitCode = 1;

/**
 * bench/node's HTTP server under `--import ntrace/register`; with `clickhouse`, the register ships node_http there
 * (NTRACE_CLICKHOUSE) and the app is ready once its shipper's instance exists.
 */
async function startApp(dir: string, clickhouse: string | undefined): Promise<{ port: number; stop(): Promise<void> }> {
  const index = join(dir, 'index');
  const env: NodeJS.ProcessEnv = { ...process.env, NTRACE_INDEX_DIR: index };
  delete env.NTRACE_CLICKHOUSE;
  if (clickhouse) {
    Object.assign(env, {
      NTRACE_CLICKHOUSE: clickhouse,
      NTRACE_SHIP_EVENTS: 'node_http',
      NTRACE_SHIP_DATABASE: 'bench_http',
      NTRACE_SHIP_SPOOL: join(dir, 'http-spool'),
      NTRACE_SERVICE: 'bench-http',
    });
  }
  const child: ChildProcess = spawn(process.execPath, ['--import', 'ntrace/register', httpServer], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
  };
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', () => reject(new Error('the HTTP app exited')));
    });
    const { port } = JSON.parse(line) as { port: number };
    while (!(await request(false, port))) await sleep(5);
    const mnt = join(index, String(child.pid));
    for (const end = Date.now() + 20_000; ; await sleep(20)) {
      const ready = clickhouse
        ? existsSync(join(mnt, 'instances')) && readdirSync(join(mnt, 'instances')).some((n) => n.startsWith('ship-'))
        : readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${mnt} `);
      if (ready) break;
      if (Date.now() > end) throw new Error(`the app's mount${clickhouse ? ' did not ship' : ''} at ${mnt}`);
    }
    if (clickhouse) await sleep(300); // the shipper's readers started
    return { port, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
