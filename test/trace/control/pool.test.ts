/**
 * The hist table pool reserves address space only: importing ntrace adds (almost) nothing to the ArrayBuffer memory
 * Node reports (`process.memoryUsage().arrayBuffers`, what APM dashboards show), and a slot grows to its table's
 * size when a hist trigger takes it — growth every thread sees (test/trace/control/hist.test.ts: workers started
 * before the trigger count into the table).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('../../../src/index.js', import.meta.url));
const control = fileURLToPath(new URL('../../../src/trace/control/index.js', import.meta.url));
const pool = fileURLToPath(new URL('../../../src/trace/control/pool.js', import.meta.url));

test('importing ntrace reserves at most 16 MB of ArrayBuffer memory; a hist trigger grows one pool slot', () => {
  const script = `
    const mb = () => process.memoryUsage().arrayBuffers / 2 ** 20;
    const m = await import(${JSON.stringify(entry)});
    const atImport = mb();
    const ev = m.defineEvent('pooltest', 'e', { a: 'u32' });
    const { writeTrigger, readHist } = await import(${JSON.stringify(control)});
    const { histSlots } = await import(${JSON.stringify(pool)});
    const before = histSlots().reduce((n, b) => n + b.byteLength, 0);
    if (writeTrigger(0, ev.id, 'hist:keys=a', { add() {} }) !== 0) throw new Error('trigger');
    ev.emit({ a: 7 });
    const after = histSlots().reduce((n, b) => n + b.byteLength, 0);
    console.log(JSON.stringify({ atImport, before, after, hist: readHist(0, ev.id) }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { atImport: number; before: number; after: number; hist: string };
  assert.ok(out.atImport <= 16, `${out.atImport} MB of ArrayBuffers at import`);
  assert.equal(out.before, 0, 'no slot holds memory before a hist trigger');
  assert.ok(out.after > 0 && out.after <= 8 << 20, `one small slot grown (${out.after} bytes)`);
  assert.match(out.hist, /\{ a:\s+7 \} hitcount:\s+1\n/);
});
