/**
 * The memory FUSE lends to READs (`ctx.replyBuffer`): a read op that writes its answer there is answered right from
 * it, at every offset; and a read that parks keeps its loan, so reads answered meanwhile cannot overwrite what it
 * already wrote there.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { eventually, mountForTest } from '../support/mount.js';
import { LENT_SIZE, lentByte } from './tree-fixture.js';

function expected(from: number, to: number): Buffer {
  const b = Buffer.alloc(to - from);
  for (let i = from; i < to; i++) b[i - from] = lentByte(i);
  return b;
}

test('reads answered in lent memory arrive whole and in order, at every offset', async (t) => {
  const m = await mountForTest(t);
  const file = `${m.mountpoint}/lent`;
  // cat reads 128 KiB at a time: two READs, the second one short, then one at EOF.
  const cat = spawnSync('cat', [file], { maxBuffer: 1 << 20 });
  assert.equal(cat.status, 0, String(cat.stderr));
  assert.ok(cat.stdout.equals(expected(0, LENT_SIZE)), 'cat of the whole file');
  const dd = spawnSync('dd', [`if=${file}`, 'bs=1000', 'skip=7', 'count=3', 'status=none']);
  assert.equal(dd.status, 0, String(dd.stderr));
  assert.ok(dd.stdout.equals(expected(7000, 10_000)), 'reads at an offset');
  const lentReads = Number(readFileSync(`${m.mountpoint}/lent-reads`, 'utf8'));
  assert.ok(lentReads >= 5, `the reads were lent memory (${lentReads} of them)`);
});

test('a parked read keeps its lent memory while later reads are answered', async (t) => {
  const m = await mountForTest(t);
  const reader = spawn('head', ['-c', '5', `${m.mountpoint}/held`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => reader.kill('SIGKILL'));
  const out: Buffer[] = [];
  reader.stdout.on('data', (d: Buffer) => out.push(d));
  const closed = once(reader, 'close');
  assert.ok(await eventually(() => m.stats().parked >= 1, 5000), 'the read of held was never parked');
  // Reads answered while `held` waits: had they been lent the parked read's memory, its "held\n" would be gone.
  const cat = spawnSync('cat', [`${m.mountpoint}/lent`], { maxBuffer: 1 << 20 });
  assert.ok(cat.stdout.equals(expected(0, LENT_SIZE)));
  m.post({ type: 'release-held' });
  const [code] = await closed;
  assert.equal(code, 0);
  assert.equal(Buffer.concat(out).toString(), 'held\n');
});
