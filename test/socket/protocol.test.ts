/**
 * The protocol's inode ops that `ntrace mount` relies on, spoken directly: LISTPLUS lists and looks up in one trip
 * (its lookups are held like LOOKUP's), FORGETS drops many lookups at once and never more than the connection holds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ROOT_INO } from '../../src/kernfs/vfs.js';
import { SocketConnection } from '../../src/socket/connection.js';
import { Op } from '../../src/socket/protocol.js';
import { mountTracefs } from '../tracefs/helpers.js';

test('LISTPLUS: every name of the root once, in batches, each with a held lookup; eof on the last batch', async (t) => {
  const m = await mountTracefs(t, { fuse: false });
  const conn = await SocketConnection.open(m.socket!);
  t.after(() => conn.close());
  const listed: string[] = [];
  const inos: number[] = [];
  let cookie = 0;
  for (let batches = 0; ; batches++) {
    assert.ok(batches < 100, 'LISTPLUS never said eof');
    const r = await conn.call(Op.LISTPLUS, (w) => w.f64(ROOT_INO).f64(cookie).u32(4));
    const eof = r.u8() === 1;
    const n = r.u32();
    assert.ok(n <= 4);
    for (let i = 0; i < n; i++) {
      const d = r.dirent();
      cookie = d.next;
      if (r.u8() === 1) {
        const e = r.entry();
        assert.equal(e.ino, d.ino);
        inos.push(e.ino);
      } else assert.ok(d.name === '.' || d.name === '..', `${d.name} came without its entry`);
      if (d.name !== '.' && d.name !== '..') listed.push(d.name);
    }
    if (eof) break;
  }
  const all = await conn.call(Op.LIST, (w) => w.str('/'));
  const names = Array.from({ length: all.u32() }, () => {
    const name = all.str();
    all.u8();
    return name;
  });
  assert.deepEqual(listed, names);
  // The lookups are this connection's: their inodes are usable without a LOOKUP.
  for (const ino of inos) assert.equal((await conn.call(Op.GETATTR, (w) => w.f64(ino))).attr().ino, ino);
});

test('FORGETS: drops what the connection holds, never more; an inode forgotten is no longer its to use', async (t) => {
  const m = await mountTracefs(t, { fuse: false });
  const conn = await SocketConnection.open(m.socket!);
  const lookup = async (name: string) => (await conn.call(Op.LOOKUP, (w) => w.f64(ROOT_INO).str(name))).entry().ino;
  const events = await lookup('events');
  assert.equal(await lookup('events'), events);
  const trace = await lookup('trace');
  await conn.call(Op.FORGETS, (w) => w.u32(2).f64(events).f64(1).f64(trace).f64(99));
  assert.equal((await conn.call(Op.GETATTR, (w) => w.f64(events))).attr().ino, events); // one lookup left
  // `trace` is no longer held: naming it is a bad frame, which closes this connection only.
  await assert.rejects(
    conn.call(Op.GETATTR, (w) => w.f64(trace)),
    { code: 'ENODEV' },
  );
  await conn.closed;
  const again = await SocketConnection.open(m.socket!);
  t.after(() => again.close());
  assert.equal((await again.call(Op.LOOKUP, (w) => w.f64(ROOT_INO).str('trace'))).entry().ino, trace);
});
