/**
 * Shipping to ClickHouse, on one small ClickHouse server started here (temp dir, loopback, 2 threads).
 *
 *   npm run bench:ship [-- --json] [-- --only rate,http,hist]   (hist needs rate: it adds to rate's table)
 *   SHIP_NICE=N: the shipper's nice value (default 19, as a mount's shipper child)
 *
 * 1. Sustained rate: this process mounts with `ship` (an `ntrace ship` child reads the mount, at its default nice 19)
 *    and emits `bench_ship:req` (3 ints + a string) paced at RATE events/s for SECONDS (1 ms timer slices, not a
 *    spin: the shipper gets the idle CPU, as beside a real app), while ClickHouse's row count is
 *    sampled every 200 ms; then everything must arrive and the mount closes. The shipping rate is the slope of the
 *    stored count over the paced window (least squares, first second left out), against the offered RATE as its
 *    peer. Checks: every event is in ClickHouse once (count and distinct seq), nothing lost (no `lost` row, no
 *    overrun), the last row stored within 2.5 s of the last emit (the shipper kept up rather than fell behind),
 *    and the rate ≥ 200,000/s.
 * 2. Emit cost while shipping vs not: the same emit loop, in interleaved rounds, with the event recorded by an
 *    instance nobody reads (peer) and by the shipper's instance while the child ships. Fastest round of each;
 *    check: ratio ≤ 1.1.
 * 3. An HTTP app's req/s with shipping on vs off: bench/node's server under `--import ntrace/register`, three apps
 *    side by side for the whole phase: `on` (NTRACE_CLICKHOUSE set: node_http shipped by the register's
 *    `ntrace ship` child), `recorded` (node_http enabled in an instance nobody reads: the same events, the same ring
 *    writes, no shipper — the peer of the check, as the "beyond the ring write they already pay") and `none`
 *    (nothing enabled; its ratio is reported). All are warmed up first (a shipper that runs for hours has no start-up
 *    or JIT cost in a window), then SHIP_HTTP_ROUNDS rounds (default 7) load one app at a time, the arms' order
 *    rotating each round; each load runs 1.5 s before its measured SHIP_HTTP_SECONDS window (default 3), so the
 *    window sees the steady state (the shipper's batching carries earlier work in and the window's own last batch
 *    out), and after an `on` round the next waits until everything is stored. The figure: the median of the
 *    rounds' on / recorded ratios (a round's arms run back to back, under the same load from the rest of the
 *    machine); the arms' medians are reported beside it. CPU µs per
 *    request by party from /proc: the app's main thread, its other threads (the FUSE serving thread answering the
 *    shipper's reads, V8's), the shipper, the server, the load generator; and what shipping did per second
 *    (activity.ts: the shipper's reads and wake-ups, the server's inserts and rows per insert). Checks: on /
 *    recorded ≥ 0.95; after each `on` round, every event the app recorded in the shipper's instance is in
 *    ClickHouse within 5 s of the round's end and none was overwritten (a shipper that yields the CPU must still
 *    keep up).
 * 4. `ntrace hist` over 10 M rows (inserted server-side from system.numbers): the exactly-once query (LIMIT 1 BY the
 *    dedupe key) and, as its peer, the raw one (`--raw`). Check: exactly-once ≤ 2 s.
 *
 * Everything shares the machine (the application, the shipper, the server and the load), as on one host of a fleet.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { fleetHist } from '../../src/fleet/index.js';
import { defineEvent, mount } from '../../src/index.js';
import { ClickHouseCluster } from '../../test/support/clickhouse.js';
import { type HttpApp, startHttpApp } from '../support/http-app.js';
import { load } from '../support/http-load.js';
import { processCpuMicros, threadCpuMicros } from '../support/proc.js';
import { median, round } from '../support/stats.js';
import { readCalls, serverInserts, wakeUps } from './activity.js';

// Not strict: `npm run bench -- ARGS` passes the same arguments to every benchmark.
const { values: opts } = parseArgs({ options: { json: { type: 'boolean' }, only: { type: 'string' } }, strict: false });
const json = opts.json === true;
/** `--only rate,http,hist` (default all; hist needs rate, which makes its table). */
const phases = new Set((typeof opts.only === 'string' ? opts.only : 'rate,http,hist').split(','));
const RATE = Number(process.env.SHIP_RATE ?? 250_000);
const SECONDS = Number(process.env.SHIP_SECONDS ?? 5);
const HTTP_ROUNDS = Number(process.env.SHIP_HTTP_ROUNDS ?? 7);
const HTTP_SECONDS = Number(process.env.SHIP_HTTP_SECONDS ?? 3);
/** Load before each measured window (longer than a batch's time bound: the window sees the steady state). */
const HTTP_LEAD_S = 1.5;
const HIST_ROWS = 10_000_000;
/** The shipper's nice value (SHIP_NICE; default: the mount's default, 19). */
const NICE = process.env.SHIP_NICE === undefined ? undefined : Number(process.env.SHIP_NICE);

/** CPU seconds (user + system) a process has used so far, from /proc. */
const cpuSeconds = (pid: number) => processCpuMicros(pid) / 1e6;

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
const results: Record<string, unknown> = { load: loadavg().map((x) => round(x, 2)), shipperNice: NICE ?? 19 };
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

  let count = 0;
  if (phases.has('rate')) {
    // 1 + 2: one mount shipping bench_ship:req.
    const m = await mount(mnt, {
      ship: { clickhouse: url, database: 'bench', events: ['bench_ship'], spoolDir: join(root, 'spool'), nice: NICE },
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

      // 1. Sustained rate: paced emits, 1 ms slices (timers); the stored count sampled every 200 ms.
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
        // The app sleeps between slices (1 ms timers): it emits at RATE without holding a core for nothing, which
        // leaves the shipper (nice 19) the idle CPU a real app would.
        await sleep(1);
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
    count = await stored();
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
  }

  if (phases.has('http')) {
    // 3. An HTTP app's req/s: shipping node_http on, against node_http recorded by an instance nobody reads (the
    // peer: the same events, the same ring writes) and against no events at all (reported). The three apps run
    // side by side for the whole phase (warm: a shipper that just started pays its start-up and JIT, which a shipper
    // that runs for hours does not), and only the loaded one works: rounds rotate the order of the arms.
    const arms = ['on', 'recorded', 'none'] as const;
    const httpStored = async () =>
      Number(
        await q(
          "SELECT sum(rows) FROM system.parts WHERE database = 'bench_http' AND table LIKE 'node_http_%' AND active",
        ).catch(() => '0'),
      );
    /**
     * After an `on` round's load: seconds until ClickHouse holds every node_http event the app recorded in the
     * shipper's instance (its per-CPU stats: read + still in the ring + overwritten), or Infinity when some were
     * overwritten or they are not all there within 10 s.
     */
    const caughtUp = async (app: HttpApp & { shipperPid: number }): Promise<number> => {
      const t0 = performance.now();
      const perCpu = join(app.mount!, 'instances', `ship-${app.shipperPid}`, 'per_cpu');
      let recorded = 0;
      let overrun = 0;
      for (const cpu of readdirSync(perCpu)) {
        const stats = readFileSync(join(perCpu, cpu, 'stats'), 'utf8');
        const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(stats)?.[1] ?? 0);
        recorded += field('entries') + field('read events') + field('overrun');
        overrun += field('overrun');
      }
      if (overrun > 0) return Number.POSITIVE_INFINITY;
      while (performance.now() - t0 < 10_000) {
        if ((await httpStored()) >= recorded) return (performance.now() - t0) / 1000;
        await sleep(50);
      }
      return Number.POSITIVE_INFINITY;
    };
    const catchUp: number[] = [];
    const rps: Record<Arm, number[]> = { on: [], recorded: [], none: [] };
    const cpu: Record<Arm, CpuPerRequest[]> = { on: [], recorded: [], none: [] };
    const activity: Activity[] = [];
    const apps = {} as Record<Arm, HttpApp & { shipperPid: number }>;
    try {
      for (const arm of arms) apps[arm] = await startApp(root, arm, url);
      // Warm-up: each app (and the shipper) JIT-compiles its hot paths; the shipper's start-up is over.
      for (const arm of arms) await load(apps[arm].port, 1, 16);
      await caughtUp(apps.on);
      for (let r = 0; r < HTTP_ROUNDS; r++) {
        for (let i = 0; i < arms.length; i++) {
          const arm = arms[(r + i) % arms.length];
          const app = apps[arm];
          // The load runs LEAD_S before the measured window: the window sees the steady state (a shipper batching
          // by the second carries the last second's work into it, and the window's own last second out).
          await load(app.port, HTTP_LEAD_S, 16);
          const m = await measured(app, ch.servers[0].child?.pid, q);
          rps[arm].push(m.rps);
          cpu[arm].push(m.cpu);
          if (arm === 'on') {
            activity.push(m.activity);
            // Nothing of this round is left for the next arm's window.
            catchUp.push(await caughtUp(app));
          }
          await sleep(200);
        }
      }
    } finally {
      for (const app of Object.values(apps)) await app.stop();
    }
    const httpRows = await httpStored();
    // The figure is the median of the rounds' ratios: each round's arms run back to back under the same load from
    // the rest of the machine, which the medians of the arms over the whole phase would mix in.
    const roundRatios = rps.on.map((x, i) => x / rps.recorded[i]);
    const httpRatio = median(roundRatios);
    const noneRatio = median(rps.on.map((x, i) => x / rps.none[i]));
    const cpuOf = (arm: Arm) =>
      Object.fromEntries(
        (Object.keys(cpu[arm][0]) as (keyof CpuPerRequest)[]).map((k) => [k, round(median(cpu[arm].map((c) => c[k])))]),
      );
    const total = (arm: Arm) => round(median(cpu[arm].map((c) => Object.values(c).reduce((a, b) => a + b, 0))));
    results.httpReqPerS = {
      shippingOn: Math.round(median(rps.on)),
      recordedNotShipped: Math.round(median(rps.recorded)),
      noEvents: Math.round(median(rps.none)),
      ratio: round(httpRatio, 3),
      ratioToNoEvents: round(noneRatio, 3),
      roundRatios: roundRatios.map((x) => round(x, 3)),
      rounds: Object.fromEntries(arms.map((a) => [a, rps[a].map((x) => Math.round(x))])),
      cpuUsPerRequest: Object.fromEntries(arms.map((a) => [a, { ...cpuOf(a), total: total(a) }])),
      // Medians over the `on` rounds, per second.
      shippingActivityPerS: Object.fromEntries(
        (Object.keys(activity[0]) as (keyof Activity)[]).map((k) => [k, round(median(activity.map((x) => x[k])), 1)]),
      ),
      allShippedAfterS: catchUp.map((s) => (Number.isFinite(s) ? round(s, 2) : 'never')),
      shippedRows: httpRows,
    };
    checks['app req/s shipping on / recorded not shipped >= 0.95'] = httpRatio >= 0.95;
    checks['the app shipped its node_http events'] = httpRows > 0;
    // Shipping may yield the CPU to the app (a lower priority) but not fall behind for good or lose events.
    checks['every round shipped all its events, none overwritten, within 5 s of its end'] = catchUp.every(
      (s) => s <= 5,
    );
  }
  // 4. hist over 10 M rows (into the table phase 1 made).
  if (phases.has('hist') && phases.has('rate')) {
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
  }
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

type Arm = 'on' | 'recorded' | 'none';

/**
 * bench/node's HTTP server under `--import ntrace/register`. `on`: the register ships node_http to `clickhouse`
 * (NTRACE_CLICKHOUSE; ready once its shipper's instance exists); `recorded`: node_http enabled in an instance
 * `peer` that nobody reads; `none`: nothing enabled.
 */
async function startApp(dir: string, arm: Arm, clickhouse: string): Promise<HttpApp & { shipperPid: number }> {
  const env: NodeJS.ProcessEnv = { NTRACE_CLICKHOUSE: undefined };
  if (arm === 'on') {
    Object.assign(env, {
      NTRACE_CLICKHOUSE: clickhouse,
      NTRACE_SHIP_EVENTS: 'node_http',
      NTRACE_SHIP_DATABASE: 'bench_http',
      NTRACE_SHIP_SPOOL: join(dir, 'http-spool'),
      NTRACE_SERVICE: 'bench-http',
      ...(NICE === undefined ? {} : { NTRACE_SHIP_NICE: String(NICE) }),
    });
  }
  const app = await startHttpApp({ register: { index: join(dir, 'index') }, env });
  try {
    const instances = join(app.mount!, 'instances');
    let shipperPid = 0;
    if (arm === 'on') {
      for (const end = Date.now() + 20_000; shipperPid === 0; await sleep(20)) {
        const ship = readdirSync(instances).find((n) => n.startsWith('ship-'));
        if (ship) shipperPid = Number(ship.slice(5));
        else if (Date.now() > end) throw new Error(`the app's mount did not ship at ${app.mount}`);
      }
      await sleep(300); // the shipper's readers started
    } else if (arm === 'recorded') {
      mkdirSync(join(instances, 'peer'));
      writeFileSync(join(instances, 'peer', 'events', 'node_http', 'enable'), '1');
      await sleep(300); // the same settling time
    }
    return { ...app, shipperPid };
  } catch (e) {
    await app.stop();
    throw e;
  }
}

/** µs of CPU per request, by party (all on the same CPUs). */
interface CpuPerRequest {
  appMain: number;
  appOthers: number;
  shipper: number;
  clickhouse: number;
  loadGenerator: number;
}

/** Per second of a round: what the shipping parties did (activity.ts). */
interface Activity {
  shipperReads: number;
  shipperWakeUps: number;
  appWakeUps: number;
  inserts: number;
  rowsPerInsert: number;
}

/** req/s under the load, the CPU each party spent on it (from /proc), and the shipping activity. */
async function measured(
  app: HttpApp & { shipperPid: number },
  serverPid: number | undefined,
  query: (sql: string) => Promise<string>,
): Promise<{ rps: number; cpu: CpuPerRequest; activity: Activity }> {
  const sample = async () => ({
    app: threadCpuMicros(app.child.pid),
    shipper: processCpuMicros(app.shipperPid),
    clickhouse: processCpuMicros(serverPid),
    self: process.cpuUsage(),
    reads: readCalls(app.shipperPid),
    wakeUps: wakeUps(app.shipperPid),
    appWakeUps: wakeUps(app.child.pid),
    server: await serverInserts(query),
  });
  const a = await sample();
  const t0 = performance.now();
  const rps = await load(app.port, HTTP_SECONDS, 16);
  const s = (performance.now() - t0) / 1000;
  const b = await sample();
  const n = Math.max(1, rps * s);
  const inserts = b.server.inserts - a.server.inserts;
  return {
    rps,
    activity: {
      shipperReads: (b.reads - a.reads) / s,
      shipperWakeUps: (b.wakeUps - a.wakeUps) / s,
      appWakeUps: (b.appWakeUps - a.appWakeUps) / s,
      // The bench only SELECTs during a round: every insert is the shipper's.
      inserts: inserts / s,
      rowsPerInsert: inserts > 0 ? (b.server.rows - a.server.rows) / inserts : 0,
    },
    cpu: {
      appMain: (b.app.main - a.app.main) / n,
      appOthers: (b.app.others - a.app.others) / n,
      shipper: (b.shipper - a.shipper) / n,
      clickhouse: (b.clickhouse - a.clickhouse) / n,
      loadGenerator: (b.self.user + b.self.system - a.self.user - a.self.system) / n,
    },
  };
}
