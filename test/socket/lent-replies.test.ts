/**
 * READ replies are rendered in memory the socket thread lends (src/socket/reply-slots.ts) and written from there:
 * a slot must not be reused before its reply is written, nor lost when a reply is never written. Readers here
 * outnumber the slots, one reader never reads its socket (its replies hold slots), another goes away with replies
 * unwritten — and every line still arrives once and whole.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { SocketClient } from '../../src/client/index.js';
import { Op, PROTOCOL_VERSION, Writer } from '../../src/socket/protocol.js';
import { defineEvent } from '../../src/trace/event.js';
import { mountTracefs, uniqueSystem } from '../tracefs/helpers.js';

const LINES = 40_000;
const READERS = 6;
const MiB = 1024 * 1024;

/** A raw client that opens `file` and sends two 1 MiB READs of it, then reads nothing. */
async function stalledReader(path: string, file: string): Promise<Socket> {
  const sock = connect(path);
  await new Promise((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  sock.pause();
  const frame = (id: number, op: number, args: (w: Writer) => void) => {
    const w = new Writer().u32(id).u8(op);
    args(w);
    return Buffer.from(w.frame());
  };
  sock.write(frame(1, Op.HELLO, (w) => w.u32(PROTOCOL_VERSION)));
  sock.write(frame(2, Op.OPEN_PATH, (w) => w.str(file).u32(0)));
  // Handles are numbered by the tree; the first open of a fresh tree is not 0 for sure, so read the reply first.
  const fh = await new Promise<number>((resolve) => {
    let got = Buffer.alloc(0);
    const onData = (c: Buffer) => {
      got = Buffer.concat([got, c]);
      // HELLO's reply (16 bytes), then OPEN_PATH's: u32 len, u32 id, i32 status, f64 fh, u8 bits.
      if (got.length >= 16 + 21) {
        sock.off('data', onData);
        sock.pause();
        resolve(got.readDoubleLE(16 + 12));
      }
    };
    sock.on('data', onData);
    sock.resume();
  });
  for (const id of [3, 4]) sock.write(frame(id, Op.READ, (w) => w.f64(fh).f64(0).u32(MiB)));
  return sock;
}

test('lent reply memory: more readers than slots, a reader that never reads, one that leaves mid-reply', async (t) => {
  const m = await mountTracefs(t, { fuse: false });
  const sys = uniqueSystem('lent');
  const ev = defineEvent(sys, 'line', { n: 'u32', text: 'string' });
  const admin = await SocketClient.connect(m.socket!);
  t.after(() => admin.close());
  await admin.writeFile('buffer_size_kb', '16384');
  for (const inst of ['stall', 'leave']) {
    await admin.mkdir(`instances/${inst}`);
    await admin.writeFile(`instances/${inst}/buffer_size_kb`, '16384');
    await admin.writeFile(`instances/${inst}/events/${sys}/enable`, '1');
  }
  await admin.writeFile(`events/${sys}/enable`, '1');
  const padding = 'x'.repeat(60);
  for (let n = 0; n < LINES; n++) ev.emit({ n, text: padding });

  // Replies that are never taken: their slots stay out while the socket thread waits to write them.
  const stalled = await stalledReader(m.socket!, 'instances/stall/trace_pipe');
  t.after(() => stalled.destroy());
  const leaving = await stalledReader(m.socket!, 'instances/leave/trace_pipe');
  await new Promise((r) => setTimeout(r, 200));
  leaving.destroy(); // its slots come back

  const seen = new Map<number, number>();
  let total = 0;
  const done = new AbortController();
  const bad: string[] = [];
  const readers = Array.from({ length: READERS }, async () => {
    const c = await SocketClient.connect(m.socket!);
    try {
      for await (const chunk of c.stream('trace_pipe', { signal: done.signal, chunkSize: MiB, reuse: true })) {
        const lines = Buffer.from(chunk).toString('latin1').split('\n');
        if (lines.pop() !== '') bad.push('a reply that does not end a line');
        for (const line of lines) {
          const got = /: line: n=(\d+) text=(x+)$/.exec(line);
          const n = got && got[2] === padding ? Number(got[1]) : -1;
          if (!(n >= 0 && n < LINES)) bad.push(line);
          else seen.set(n, (seen.get(n) ?? 0) + 1);
          if (++total >= LINES) done.abort();
        }
      }
    } finally {
      await c.close();
    }
  });
  const timeout = setTimeout(() => done.abort(), 30_000);
  await Promise.all(readers);
  clearTimeout(timeout);
  assert.deepEqual(bad.slice(0, 3), [], 'lines that are not whole lines of the event');
  assert.equal(total, LINES);
  const twice = [...seen].filter(([, k]) => k !== 1);
  assert.deepEqual(twice.slice(0, 3), [], 'lines read more than once');
  assert.equal(seen.size, LINES, 'lines lost');

  // The tree still answers, with lent memory or without, after all that.
  for (let n = 0; n < 10; n++) ev.emit({ n, text: padding });
  const again = await SocketClient.connect(m.socket!);
  t.after(() => again.close());
  const ac = new AbortController();
  let text = '';
  for await (const chunk of again.stream('trace_pipe', { signal: ac.signal, chunkSize: MiB })) {
    text += Buffer.from(chunk).toString();
    if (text.split('\n').length > 10) ac.abort();
  }
  assert.equal(text.split('\n').filter(Boolean).length, 10);
  await admin.writeFile(`events/${sys}/enable`, '0');
});
