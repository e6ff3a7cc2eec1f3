/**
 * Delivery's backoff against a ClickHouse address nobody answers (a loopback port just closed): stop() ends a backoff
 * under way at once, even when batches were submitted during it.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { ClickHouse } from '../../src/ship/clickhouse.js';
import { Delivery } from '../../src/ship/delivery.js';
import { type Batch, Spool } from '../../src/ship/spool.js';
import { tempDir, until } from './support.js';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

function batch(n: number): Batch {
  return {
    table: 'db.t',
    columns: ['x'],
    rows: 1,
    event: 'sys:ev',
    format: 'TabSeparated',
    body: Buffer.from(`${n}\n`),
  };
}

test('stop() ends a backoff at once, also after batches were submitted during it', async (t) => {
  const target = new ClickHouse(`http://127.0.0.1:${await closedPort()}`, { timeoutMs: 2000 });
  t.after(() => target.close());
  const logs: string[] = [];
  const delivery = new Delivery({
    targets: [target],
    spool: new Spool(tempDir(t, 'ntrace-delivery-'), 1 << 20),
    prepare: async () => {},
    onSpoolDrop: () => {},
    log: (line) => logs.push(line),
    backoffMinMs: 8000,
    backoffMaxMs: 8000,
  });
  delivery.submit(batch(1));
  await until('the first failed attempt', () => delivery.counters.retries === 1, 10_000);
  assert.equal(delivery.down, true);
  delivery.submit(batch(2)); // during the backoff (4–8 s): it waits in the spool
  const t0 = performance.now();
  await delivery.stop();
  const ms = performance.now() - t0;
  // Waiting out the backoff would take at least 4 s; a stop that ends it takes no time at all.
  assert.ok(ms < 2000, `stop() took ${Math.round(ms)} ms`);
  assert.equal(delivery.counters.shippedRows, 0);
  assert.deepEqual(logs, [], 'an unreachable server is retried, not refused');
});
