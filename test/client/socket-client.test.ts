/** The TreeClient over the serving process's socket: the same contract as over the mount, with FUSE and without. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openTarget, SocketClient } from '../../src/client/index.js';
import { defineEvent } from '../../src/trace/event.js';
import { mountTracefs, uniqueSystem } from '../tracefs/helpers.js';
import { clientContract } from './contract.js';

clientContract(
  (name, fn) => test(`beside FUSE: ${name}`, fn),
  async (t) => {
    const m = await mountTracefs(t);
    assert.equal(m.fuse, true);
    const c = await openTarget(m.socket!);
    assert.ok(c instanceof SocketClient);
    t.after(() => c.close());
    return c;
  },
);

clientContract(
  (name, fn) => test(`socket alone: ${name}`, fn),
  async (t) => {
    const m = await mountTracefs(t, { fuse: false });
    assert.equal(m.fuse, false);
    const c = await openTarget(m.socket!);
    t.after(() => c.close());
    return c;
  },
);

test('a stream asks little at its first read, so its first bytes come at once, then the full chunk size', async (t) => {
  const m = await mountTracefs(t, { fuse: false });
  const c = await SocketClient.connect(m.socket!);
  t.after(() => c.close());
  const sys = uniqueSystem('sf');
  const ev = defineEvent(sys, 'tick', { n: 'u32', text: 'string' });
  await c.writeFile('buffer_size_kb', '4096');
  await c.writeFile(`events/${sys}/tick/enable`, '1');
  for (let n = 0; n < 20_000; n++) ev.emit({ n, text: 'first-read' }); // ~1.3 MB of text
  const ac = new AbortController();
  const sizes: number[] = [];
  for await (const chunk of c.stream('trace_pipe', { signal: ac.signal, chunkSize: 1024 * 1024, reuse: true })) {
    sizes.push(chunk.length);
    if (sizes.length === 2) ac.abort();
  }
  assert.ok(sizes[0] <= 64 * 1024, `first read ${sizes[0]} bytes`);
  assert.ok(sizes[1] > 512 * 1024, `second read ${sizes[1]} bytes`);
  await c.writeFile(`events/${sys}/tick/enable`, '0');
});
