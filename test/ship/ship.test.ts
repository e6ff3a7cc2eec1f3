/**
 * Shipping to real ClickHouse servers: two of them, started here in temp dirs as the two shards of `ntrace_test`,
 * stopped after the file whatever happens.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { getPriority, hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MountClient } from '../../src/client/index.js';
import { fleetHist } from '../../src/fleet/index.js';
import { defineEvent, mount } from '../../src/index.js';
import { type ShipOptions, startShipping } from '../../src/ship/index.js';
import { CLUSTER, ClickHouseCluster } from '../support/clickhouse.js';
import { mountTracefs, uniqueSystem } from '../tracefs/helpers.js';
import { tempDir, uniqueDb, until } from './support.js';

let ch: ClickHouseCluster;
before(async () => {
  ch = await ClickHouseCluster.start(2);
});
after(async () => {
  await ch?.stop();
});

const num = async (sql: string, server = ch.servers[0]) => Number((await ch.query(sql, server)).trim());

function runApp(
  dir: string,
  url: string,
  db: string,
  system: string,
  fields: object,
  count: number,
  viaEnv = false,
): Promise<void> {
  const script = fileURLToPath(new URL('./app-child.js', import.meta.url));
  const args = [script, dir, url, db, system, JSON.stringify(fields), String(count), 'app'];
  const env = viaEnv
    ? {
        ...process.env,
        NTRACE_CLICKHOUSE: url,
        NTRACE_SHIP_DATABASE: db,
        NTRACE_SHIP_EVENTS: `${system}:req`,
        NTRACE_SHIP_SPOOL: `${dir}.spool`,
        NTRACE_SERVICE: 'app',
      }
    : process.env;
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'pipe'], env });
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`app exited ${code}: ${err}`))));
  });
}

function appDir(t: Parameters<typeof tempDir>[0]): string {
  const d = join(tempDir(t, 'ntrace-ship-app-'), 'mnt');
  mkdirSync(d);
  return d;
}

function shipOptions(
  t: Parameters<typeof tempDir>[0],
  o: Partial<ShipOptions> & { clickhouse: ShipOptions['clickhouse'] },
): ShipOptions {
  const logs: string[] = [];
  return { spoolDir: join(tempDir(t, 'ntrace-ship-spool-'), 'spool'), batchMs: 100, log: (l) => logs.push(l), ...o };
}

test('events of two processes land once each (counted by seq); one ships from mount({ ship }), one from NTRACE_CLICKHOUSE', async (t) => {
  const db = uniqueDb();
  const sys = uniqueSystem('two');
  const fields = { status: 'u16', dur: 'u32', bytes: 'u64', url: 'string' };
  await Promise.all([
    runApp(appDir(t), ch.servers[0].url, db, sys, fields, 3000),
    runApp(appDir(t), ch.servers[0].url, db, sys, fields, 3000, true),
  ]);
  const rows = (
    await ch.query(
      `SELECT common_pid, count(), uniqExact(common_seq), min(common_seq), max(common_seq) FROM ${db}.${sys}_req GROUP BY common_pid ORDER BY common_pid`,
    )
  )
    .trim()
    .split('\n')
    .map((l) => l.split('\t').map(Number));
  assert.equal(rows.length, 2);
  for (const [, count, seqs, min, max] of rows) assert.deepEqual([count, seqs, min, max], [3000, 3000, 0, 2999]);
  assert.equal(await num(`SELECT count() FROM ${db}.${sys}_req WHERE url = '/url/3' AND status = 3`), 2);
});

/** The nice value of every thread of process `pid` (field 19 of /proc/PID/task/TID/stat). */
function threadNices(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

test("a mount's shipper child runs every thread at nice 19 (yielding to the app), or at ship.nice; the app's own priority is untouched", async (t) => {
  const sys = uniqueSystem('nice');
  const ev = defineEvent(sys, 'req', { n: 'u32' });
  const own = getPriority();
  for (const nice of [undefined, 7]) {
    const dir = appDir(t);
    const m = await mount(dir, {
      ship: { clickhouse: ch.servers[0].url, database: uniqueDb(), events: [sys], spoolDir: `${dir}.spool`, nice },
    });
    try {
      ev.emit({ n: 1 });
      const ship = readdirSync(join(dir, 'instances')).find((n) => n.startsWith('ship-'));
      assert.ok(ship, 'the shipper made its instance');
      // A value below this process's own cannot be set without privilege: the child keeps the inherited one.
      const expected = Math.max(nice ?? 19, own);
      const nices = threadNices(Number(ship.slice(5)));
      assert.ok(nices.length > 1, 'the child has its V8 and libuv threads');
      assert.deepEqual(new Set(nices), new Set([expected]), `every thread of the shipper at nice ${expected}`);
    } finally {
      await m.close();
    }
  }
  assert.deepEqual(new Set(threadNices(process.pid)), new Set([own]));
});

test("ship.batchMs reaches a mount's shipper child (--batch-ms), whose rows arrive while the mount is open", async (t) => {
  const sys = uniqueSystem('bms');
  const db = uniqueDb();
  const ev = defineEvent(sys, 'req', { n: 'u32' });
  const dir = appDir(t);
  const m = await mount(dir, {
    ship: { clickhouse: ch.servers[0].url, database: db, events: [sys], spoolDir: `${dir}.spool`, batchMs: 200 },
  });
  try {
    const ship = readdirSync(join(dir, 'instances')).find((n) => n.startsWith('ship-'));
    assert.ok(ship, 'the shipper made its instance');
    const argv = readFileSync(`/proc/${ship.slice(5)}/cmdline`, 'utf8').split('\0');
    assert.equal(argv[argv.indexOf('--batch-ms') + 1], '200');
    ev.emit({ n: 7 });
    await until(
      'the row stored while the mount is open',
      async () =>
        (await num(`SELECT count() FROM system.tables WHERE database = '${db}' AND name = '${sys}_req'`)) === 1 &&
        (await num(`SELECT count() FROM ${db}.${sys}_req WHERE n = 7`)) === 1,
      10_000,
    );
  } finally {
    await m.close();
  }
});

test('a field added in a later version of the app becomes a column', async (t) => {
  const db = uniqueDb();
  const sys = uniqueSystem('grow');
  await runApp(appDir(t), ch.servers[0].url, db, sys, { status: 'u16' }, 100);
  await runApp(appDir(t), ch.servers[0].url, db, sys, { status: 'u16', route: 'string', v: 's8[2]' }, 100);
  const cols = await ch.query(
    `SELECT name, type FROM system.columns WHERE database='${db}' AND table='${sys}_req' AND name NOT LIKE 'common_%'`,
  );
  assert.equal(cols, 'status\tUInt16\nroute\tString\nv\tArray(Int8)\n');
  assert.equal(await ch.query(`SELECT count(), countIf(route = '/route/1') FROM ${db}.${sys}_req`), '200\t15\n');
});

test('an event defined while shipping, with a field its table lacks: picked up, the column added (ALTER), shipped', async (t) => {
  const db = uniqueDb();
  const sys = uniqueSystem('rt');
  // The table as an earlier version of the app left it: no `route` column yet.
  await runApp(appDir(t), ch.servers[0].url, db, sys, { status: 'u16' }, 50);
  const first = defineEvent(sys, 'first', { n: 'u32' });
  const m = await mountTracefs(t);
  const s = await startShipping(
    new MountClient(m.mountpoint),
    shipOptions(t, { clickhouse: ch.servers[0].url, database: db, events: [sys] }),
  );
  let stats = s.stats();
  try {
    first.emit({ n: 1 });
    // Defined after the shipper started: its selector matches it once available_events says so.
    const req = defineEvent(sys, 'req', { status: 'u16', route: 'string', flags: 'u8[3]' });
    await until('the run-time event enabled in the instance', async () =>
      Buffer.from(await new MountClient(m.mountpoint).readFile(`${s.instance.path}/set_event`))
        .toString()
        .includes(`${sys}:req`),
    );
    for (let i = 0; i < 300; i++) req.emit({ status: 200 + (i % 3), route: `/r${i % 4}`, flags: [i % 7, 1, 2] });
    await until('the run-time rows shipped', () => s.stats().shippedRows >= 301);
  } finally {
    stats = await s.close();
  }
  assert.equal(stats.refusedRows, 0);
  assert.equal(
    await ch.query(
      `SELECT name, type FROM system.columns WHERE database='${db}' AND table='${sys}_req' AND name NOT LIKE 'common_%'`,
    ),
    'status\tUInt16\nroute\tString\nflags\tArray(UInt8)\n',
  );
  assert.equal(
    await ch.query(`SELECT count(), countIf(route = ''), countIf(route = '/r1'), sum(flags[1]) FROM ${db}.${sys}_req`),
    `350\t50\t75\t${Array.from({ length: 300 }, (_, i) => i % 7).reduce((a, b) => a + b, 0)}\n`,
  );
  assert.equal(await num(`SELECT count() FROM ${db}.${sys}_first`), 1);
});

test('ClickHouse down at the start: batches wait in the spool and go out when it is up', async (t) => {
  const db = uniqueDb();
  const sys = uniqueSystem('late');
  const ev = defineEvent(sys, 'ev', { n: 'u32', s: 'string' });
  const m = await mountTracefs(t);
  const server = ch.servers[1];
  await ch.kill(server);
  t.after(() => (server.child?.exitCode === null ? undefined : ch.restart(server)));
  const s = await startShipping(
    new MountClient(m.mountpoint),
    shipOptions(t, { clickhouse: server.url, database: db, events: [sys], batchRows: 200 }),
  );
  try {
    for (let i = 0; i < 2000; i++) ev.emit({ n: i, s: `x${i}` });
    await until('batches in the spool, the server seen down', () => s.stats().spooledRows >= 1000 && s.stats().down);
    await ch.restart(server);
    await until('the spool to drain', () => s.stats().spooledRows === 0 && s.stats().shippedRows === 2000);
  } finally {
    await s.close();
  }
  assert.equal(await num(`SELECT count() FROM ${db}.${sys}_ev`, server), 2000);
  // Oldest first: the rows' insertion order follows seq (one part per batch, in order).
  assert.equal(await num(`SELECT uniqExact(common_seq) FROM ${db}.${sys}_ev`, server), 2000);
  assert.ok(s.stats().retries > 0);
});

test('the spool full: the oldest batches are dropped and recorded in the lost table', async (t) => {
  const db = uniqueDb();
  const sys = uniqueSystem('full');
  const ev = defineEvent(sys, 'ev', { n: 'u32', s: 'string' });
  const m = await mountTracefs(t);
  const server = ch.servers[1];
  await ch.kill(server);
  t.after(() => (server.child?.exitCode === null ? undefined : ch.restart(server)));
  const max = 64 * 1024;
  const s = await startShipping(
    new MountClient(m.mountpoint),
    shipOptions(t, { clickhouse: server.url, database: db, events: [sys], batchRows: 100, spoolMaxBytes: max }),
  );
  let stats = s.stats();
  try {
    for (let i = 0; i < 5000; i++) ev.emit({ n: i, s: 'y'.repeat(40) });
    await until('the spool to drop batches', () => s.stats().spoolDroppedRows > 0 && s.stats().readRecords === 5000);
    assert.ok(s.stats().spooledBytes <= max);
    await ch.restart(server);
    await until('the spool to drain', () => s.stats().spooledRows === 0);
  } finally {
    stats = await s.close();
  }
  const shipped = await num(`SELECT count() FROM ${db}.${sys}_ev`, server);
  const lost = await num(`SELECT sum(count) FROM ${db}.lost WHERE reason = 'spool' AND event = '${sys}:ev'`, server);
  assert.equal(shipped + lost, 5000, `shipped ${shipped} + lost ${lost}`);
  assert.equal(lost, stats.spoolDroppedRows);
  // The newest rows survive.
  assert.equal(await num(`SELECT max(n) FROM ${db}.${sys}_ev`, server), 4999);
});

test('a batch the server refuses is logged with its message, counted and not retried', async (t) => {
  const db = uniqueDb();
  const sys = uniqueSystem('bad');
  await ch.query(`CREATE DATABASE ${db}`);
  // A table someone made with another type for the field: every row of the event is bad data for it.
  await ch.query(
    `CREATE TABLE ${db}.${sys}_ev (common_ts DateTime, common_ts_ns UInt64, common_host String, common_service String, common_pid UInt32, common_cpu UInt32, common_comm String, common_seq UInt64, name UInt8) ENGINE = MergeTree PARTITION BY toYYYYMMDD(common_ts) ORDER BY common_seq`,
  );
  const ev = defineEvent(sys, 'ev', { name: 'string' });
  const m = await mountTracefs(t);
  const logs: string[] = [];
  const s = await startShipping(new MountClient(m.mountpoint), {
    ...shipOptions(t, { clickhouse: ch.servers[0].url, database: db, events: [sys] }),
    log: (l) => logs.push(l),
  });
  let stats: Awaited<ReturnType<typeof s.close>>;
  try {
    for (let i = 0; i < 10; i++) ev.emit({ name: 'not a number' });
    await until('the refusal', () => s.stats().refusedBatches === 1);
  } finally {
    stats = await s.close();
  }
  assert.equal(stats.refusedRows, 10);
  assert.equal(stats.retries, 0);
  assert.equal(stats.spooledRows, 0);
  assert.match(logs.join('\n'), /refused a batch of 10 .*Code: 368.*Bad cast from type DB::ColumnString/s);
  assert.equal(await num(`SELECT count() FROM ${db}.${sys}_ev`), 0);
});

test('a shard SIGKILLed for 5 s while shipping: nothing lost, nothing doubled after dedupe', async (t) => {
  const db = uniqueDb();
  const sys = uniqueSystem('shard');
  const ev = defineEvent(sys, 'ev', { n: 'u32', url: 'string' });
  const m = await mountTracefs(t);
  const [, victim] = ch.servers;
  t.after(() => (victim.child?.exitCode === null ? undefined : ch.restart(victim)));
  const s = await startShipping(
    new MountClient(m.mountpoint),
    shipOptions(t, {
      clickhouse: ch.servers.map((x) => x.url),
      cluster: CLUSTER,
      database: db,
      events: [sys],
      batchRows: 500,
    }),
  );
  let emitted = 0;
  try {
    const emitFor = async (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        for (let i = 0; i < 100; i++) ev.emit({ n: emitted++, url: `/u${emitted % 13}` });
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await emitFor(1000);
    await ch.kill(victim);
    await emitFor(5000);
    await ch.restart(victim);
    await emitFor(1000);
    await until('everything shipped', () => s.stats().shippedRows >= emitted && s.stats().spooledRows === 0);
  } finally {
    await s.close();
  }
  assert.equal(s.stats().lostRecords, 0);
  const dist = `${db}.${sys}_ev_all`;
  assert.equal(
    await num(
      `SELECT count() FROM (SELECT * FROM ${dist} LIMIT 1 BY common_host, common_pid, common_cpu, common_seq, common_ts_ns)`,
    ),
    emitted,
  );
  assert.equal(await num(`SELECT uniqExact(n) FROM ${dist}`), emitted);
  // Both shards took rows.
  for (const server of ch.servers) assert.ok((await num(`SELECT count() FROM ${db}.${sys}_ev`, server)) > 0);
});

test('ntrace hist over the shipped rows prints what the hist trigger prints in the process', async (t) => {
  const db = uniqueDb();
  const sys = uniqueSystem('hist');
  const ev = defineEvent(sys, 'res', { status: 'u16', dur: 'u32', delta: 's32', url: 'string', tag: 'char[8]' });
  const m = await mountTracefs(t);
  const client = new MountClient(m.mountpoint);
  const specs = [
    'hist:keys=url:vals=hitcount,dur:sort=dur.descending',
    'hist:keys=status.buckets=100,dur.log2:vals=delta',
    'hist:keys=tag,common_pid:vals=hitcount:sort=hitcount.descending if status >= 500 && url ~ "/a*"',
    'hist:keys=delta:vals=dur if url != "/b" || tag == "t1"',
  ];
  const dir = `events/${sys}/res`;
  for (const spec of specs) await client.writeFile(`${dir}/trigger`, spec, { append: true });
  const s = await startShipping(client, shipOptions(t, { clickhouse: ch.servers[0].url, database: db, events: [sys] }));
  try {
    for (let i = 0; i < 3000; i++) {
      ev.emit({
        status: [200, 404, 500, 503][i % 4],
        dur: (i * 7919) % 100_000,
        delta: (i % 11) - 5,
        url: `/${'abc'[i % 3]}${i % 5 === 0 ? 'x' : ''}`,
        tag: `t${i % 4}`,
      });
    }
  } finally {
    await s.close();
  }
  const local = Buffer.from(await client.readFile(`${dir}/hist`)).toString();
  // A batch stored twice (what a lost acknowledgement causes): counted once, unless --raw.
  const t0 = `${db}.${sys}_res`;
  await ch.query(`INSERT INTO ${t0} SELECT * FROM ${t0} WHERE common_batch = (SELECT min(common_batch) FROM ${t0})`);
  assert.ok((await num(`SELECT count() FROM ${t0}`)) > 3000);
  const rawHits = /Hits: (\d+)/.exec(
    await fleetHist(specs[0], `${sys}:res`, { clickhouse: ch.servers[0].url, database: db, raw: true }),
  );
  assert.ok(Number(rawHits?.[1]) > 3000);
  const fleet: string[] = [];
  for (const spec of specs)
    fleet.push(await fleetHist(spec, `${sys}:res`, { clickhouse: ch.servers[0].url, database: db }));
  // The hist file shows the newest trigger first, as the kernel does.
  assert.equal(fleet.reverse().join('\n\n'), local);
  for (const spec of specs)
    await client.writeFile(`${dir}/trigger`, `!${spec.replace(/ if .*/, '')}`, { append: true }).catch(() => {});
  // --where is the same filter as an `if`.
  assert.equal(
    await fleetHist('hist:keys=url', `${sys}:res`, {
      clickhouse: ch.servers[0].url,
      database: db,
      where: 'status >= 500 && url ~ "/a*"',
    }),
    (
      await fleetHist('hist:keys=url if status >= 500 && url ~ "/a*"', `${sys}:res`, {
        clickhouse: ch.servers[0].url,
        database: db,
      })
    ).replace(' if status >= 500 && url ~ "/a*"', ''),
  );
  assert.ok(readdirSync(m.mountpoint).includes('trace'));
  // The command prints the same; --by host gives one section per host; --since 1d keeps today's rows; errors are the
  // parser's, with exit status 1.
  const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [cli, 'hist', '--clickhouse', ch.servers[0].url, '--database', db, ...args], {
      encoding: 'utf8',
    });
  const one = run(specs[0], `${sys}:res`, '--since', '1d');
  assert.equal(one.status, 0, one.stderr);
  assert.equal(one.stdout, fleet[fleet.length - 1]);
  const byHost = run(specs[0], `${sys}:res`, '--by', 'host');
  assert.equal(byHost.stdout, `# host: ${hostname()}\n${fleet[fleet.length - 1]}`);
  const bad = run('hist:keys=nosuch', `${sys}:res`);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /Couldn't find field/);
});
