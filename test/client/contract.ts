/**
 * What every TreeClient must do, whatever the transport: run against a tracefs served by this process. The same
 * checks run over the mount path and over the socket, so both reach the tree with the same semantics.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { type TreeClient, TreeError } from '../../src/client/index.js';
import { defineEvent } from '../../src/trace/event.js';
import { uniqueSystem } from '../tracefs/helpers.js';

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof TreeError && e.code === code, `expected ${code}`);
}

/** `open` gives a client of a fresh tracefs mount of this process (closed by the test's own cleanup). */
export function clientContract(
  test: (name: string, fn: (t: TestContext) => Promise<void>) => void,
  open: (t: TestContext) => Promise<TreeClient>,
): void {
  test('readFile, writeFile (one write, errno on failure, error_log), stat', async (t) => {
    const sys = uniqueSystem('cl');
    defineEvent(sys, 'ev', { n: 'u32' });
    const c = await open(t);
    assert.equal(text(await c.readFile('tracing_on')), '1\n');
    assert.equal(await c.writeFile('/tracing_on', '0'), 1);
    assert.equal(text(await c.readFile('tracing_on')), '0\n');
    await c.writeFile('tracing_on', '1\n');
    await rejectsWith(c.writeFile(`events/${sys}/ev/filter`, 'nope == 1'), 'EINVAL');
    assert.match(text(await c.readFile('error_log')), /Field not found/);
    await rejectsWith(c.readFile('no/such/file'), 'ENOENT');
    await rejectsWith(c.writeFile(`events/${sys}/nope/enable`, '1'), 'ENOENT');
    assert.equal(await c.writeFile('set_event', `${sys}:ev`), `${sys}:ev`.length);
    assert.equal(text(await c.readFile(`events/${sys}/ev/enable`)), '1\n');
    await c.writeFile('set_event', `!${sys}:ev`, { append: true });
    assert.equal(text(await c.readFile(`events/${sys}/ev/enable`)), '0\n');
    const st = await c.stat('trace');
    assert.equal(st.kind, 'file');
    assert.equal(st.mode & 0o170000, 0o100000);
    assert.equal((await c.stat('../events/')).kind, 'dir');
    await rejectsWith(c.stat('nope'), 'ENOENT');
  });

  test('readdir, mkdir and rmdir of instances', async (t) => {
    const sys = uniqueSystem('cd');
    defineEvent(sys, 'ev', { n: 'u32' });
    const c = await open(t);
    const events = await c.readdir('events');
    assert.ok(events.some((e) => e.name === sys && e.kind === 'dir'));
    assert.ok(events.some((e) => e.name === 'enable' && e.kind === 'file'));
    assert.ok(!events.some((e) => e.name === '.' || e.name === '..'));
    await rejectsWith(c.readdir('trace'), 'ENOTDIR');
    await c.mkdir('instances/sock_c');
    t.after(() => c.rmdir('instances/sock_c').catch(() => {}));
    await rejectsWith(c.mkdir('instances/sock_c'), 'EEXIST');
    assert.ok((await c.readdir('instances')).some((e) => e.name === 'sock_c'));
    assert.equal(text(await c.readFile('instances/sock_c/tracing_on')), '1\n');
    await c.rmdir('instances/sock_c');
    await rejectsWith(c.rmdir('instances/sock_c'), 'ENOENT');
    await rejectsWith(c.mkdir('events/nope'), 'EPERM');
  });

  test('stream: records as they are emitted, ended by the signal', async (t) => {
    const sys = uniqueSystem('cs');
    const ev = defineEvent(sys, 'tick', { n: 'u32' });
    const c = await open(t);
    await c.writeFile(`events/${sys}/tick/enable`, '1');
    const ac = new AbortController();
    let got = '';
    const reading = (async () => {
      for await (const chunk of c.stream('trace_pipe', { signal: ac.signal })) {
        got += text(chunk);
        if (/n=3\n/.test(got)) ac.abort();
      }
    })();
    for (let n = 1; n <= 3; n++) {
      await new Promise((r) => setTimeout(r, 50));
      ev.emit({ n });
    }
    await reading;
    assert.match(got, /tick: n=1\n[\s\S]*tick: n=2\n[\s\S]*tick: n=3\n/);
    // An idle stream ends promptly when aborted.
    const idle = new AbortController();
    const started = Date.now();
    setTimeout(() => idle.abort(), 100);
    for await (const _ of c.stream('trace_pipe', { signal: idle.signal })) assert.fail('nothing was emitted');
    assert.ok(Date.now() - started < 2000);
    await c.writeFile(`events/${sys}/tick/enable`, '0');
  });
  test('stream, paced: what was emitted while the consumer paused comes in one read after the pause', async (t) => {
    const sys = uniqueSystem('cp');
    const ev = defineEvent(sys, 'tick', { n: 'u32' });
    const c = await open(t);
    await c.writeFile(`events/${sys}/tick/enable`, '1');
    const ac = new AbortController();
    const chunks = c.stream('trace_pipe', { signal: ac.signal, paced: true })[Symbol.asyncIterator]();
    try {
      ev.emit({ n: 1 });
      assert.match(text((await chunks.next()).value as Uint8Array), /tick: n=1\n/);
      // The pause: three emits apart in time. A read kept ahead would have been answered with the first alone.
      for (let n = 2; n <= 4; n++) {
        ev.emit({ n });
        await new Promise((r) => setTimeout(r, 40));
      }
      const after = text((await chunks.next()).value as Uint8Array);
      assert.match(after, /tick: n=2\n[\s\S]*tick: n=3\n[\s\S]*tick: n=4\n/);
    } finally {
      ac.abort();
      await chunks.return?.();
      await c.writeFile(`events/${sys}/tick/enable`, '0');
    }
  });

  test('stream: aborted while it opens, it ends quietly', async (t) => {
    const c = await open(t);
    const ac = new AbortController();
    const chunks = c.stream('trace_pipe', { signal: ac.signal })[Symbol.asyncIterator]();
    const first = chunks.next(); // runs up to the open
    ac.abort();
    assert.deepEqual(await first, { done: true, value: undefined });
  });

  test('stream with reuse: chunks read into the same memory, each taken before the next, every line in order', async (t) => {
    const sys = uniqueSystem('cr');
    const ev = defineEvent(sys, 'tick', { n: 'u32' });
    const c = await open(t);
    await c.writeFile(`events/${sys}/tick/enable`, '1');
    const LINES = 3000;
    for (let n = 0; n < LINES; n++) ev.emit({ n });
    const ac = new AbortController();
    let got = '';
    for await (const chunk of c.stream('trace_pipe', { signal: ac.signal, chunkSize: 4096, reuse: true })) {
      got += text(chunk); // taken (copied) before the next is asked for
      if (got.endsWith(`n=${LINES - 1}\n`)) ac.abort();
    }
    const ns = [...got.matchAll(/tick: n=(\d+)\n/g)].map((m) => Number(m[1]));
    assert.deepEqual(
      ns,
      Array.from({ length: LINES }, (_, n) => n),
    );
    await c.writeFile(`events/${sys}/tick/enable`, '0');
  });
}
