/**
 * The protocol's inode ops that `ntrace mount` relies on, spoken directly: LISTPLUS lists and looks up in one trip
 * (its lookups are held like LOOKUP's), FORGETS drops many lookups at once and never more than the connection holds,
 * OPEN_READ opens and reads in one trip; and HELLO's version agreement.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { constants } from 'node:os';
import { test } from 'node:test';
import { ROOT_INO } from '../../src/kernfs/vfs.js';
import { SocketConnection } from '../../src/socket/connection.js';
import { FrameSplitter, Op, PROTOCOL_VERSION, Reader, Writer } from '../../src/socket/protocol.js';
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

/** A raw connection that says HELLO with `version`: the answer's status and version, and the open socket. */
async function hello(path: string, version: number) {
  const sock = connect(path);
  await new Promise((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  const frames = new FrameSplitter();
  const bodies: Reader[] = [];
  let arrived = () => {};
  sock.on('data', (chunk: Buffer) => {
    for (const body of frames.push(chunk)) bodies.push(new Reader(body));
    arrived();
  });
  const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  sock.on('error', () => {});
  const next = () =>
    new Promise<Reader | undefined>((resolve) => {
      arrived = () => resolve(bodies.shift());
      if (bodies.length > 0) arrived();
      void closed.then(() => resolve(bodies.shift()));
    });
  const send = (id: number, op: number, args: (w: Writer) => void) => {
    const w = new Writer().u32(id).u8(op);
    args(w);
    sock.write(w.frame());
  };
  send(1, Op.HELLO, (w) => w.u32(version));
  const r = (await next())!;
  r.u32();
  const status = r.i32();
  return { sock, status, version: status === 0 ? r.u32() : 0, next, send, closed };
}

test('HELLO agrees the lower version of both sides; below 2 is refused, and a version 3 op on a version 2 connection ends it', async (t) => {
  const m = await mountTracefs(t, { fuse: false });
  const newer = await hello(m.socket!, 99);
  t.after(() => newer.sock.destroy());
  assert.deepEqual([newer.status, newer.version], [0, PROTOCOL_VERSION]);
  const old = await hello(m.socket!, 1);
  assert.equal(old.status, constants.errno.EPROTO);
  await old.closed;
  const v2 = await hello(m.socket!, 2);
  t.after(() => v2.sock.destroy());
  assert.deepEqual([v2.status, v2.version], [0, 2]);
  v2.send(2, Op.LOOKUP, (w) => w.f64(ROOT_INO).str('README'));
  const e = (await v2.next())!;
  assert.deepEqual([e.u32(), e.i32()], [2, 0]);
  const ino = e.entry().ino;
  v2.send(3, Op.OPEN_READ, (w) => w.f64(ino).u32(0).u32(4096));
  await v2.closed; // OPEN_READ is not version 2's: a bad frame, that connection ends
  const conn = await SocketConnection.open(m.socket!);
  t.after(() => conn.close());
  assert.equal(conn.version, PROTOCOL_VERSION);
});

test('OPEN_READ: an open and its first read in one trip, only for a read-only open of a plain file', async (t) => {
  const m = await mountTracefs(t, { fuse: false });
  const conn = await SocketConnection.open(m.socket!);
  t.after(() => conn.close());
  const lookup = async (name: string) => (await conn.call(Op.LOOKUP, (w) => w.f64(ROOT_INO).str(name))).entry().ino;
  const openRead = async (name: string, flags: number, size: number) => {
    const r = await conn.call(Op.OPEN_READ, (w) => w.f64(ino[name]).u32(flags).u32(size));
    const o = r.open();
    return { o, data: r.u8() === 1 ? Buffer.from(r.bytes()) : undefined };
  };
  const ino: Record<string, number> = {};
  for (const name of ['README', 'trace_pipe', 'tracing_on', 'trace_marker']) ino[name] = await lookup(name);
  const readme = Buffer.from((await conn.call(Op.READ_FILE, (w) => w.str('README'))).bytes());
  // README: constant content (cached by a mount, as the app's own mount does), read whole in the reply…
  const whole = await openRead('README', 0, 1 << 20);
  assert.equal(whole.o.directIo, false);
  assert.deepEqual(whole.data, readme);
  // …or its first `size` bytes, the rest read from the handle at the offset that follows.
  const part = await openRead('README', 0, 100);
  assert.deepEqual(part.data, readme.subarray(0, 100));
  const rest = (
    await conn.call(Op.READ, (w) =>
      w
        .f64(part.o.fh)
        .f64(100)
        .u32(1 << 20),
    )
  ).bytes();
  assert.deepEqual(Buffer.concat([part.data!, rest]), readme);
  // A generated file: read at open (its content as of then), direct_io as on the mount.
  const on = await openRead('tracing_on', 0, 4096);
  assert.deepEqual([on.o.directIo, on.data?.toString()], [true, '1\n']);
  // Nothing read ahead for a stream (it consumes), or an open for writing.
  const pipe = await openRead('trace_pipe', 0, 4096);
  assert.deepEqual([pipe.o.stream, pipe.data], [true, undefined]);
  const marker = await openRead('trace_marker', 1, 4096);
  assert.equal(marker.data, undefined);
  for (const h of [whole, part, on, pipe, marker]) await conn.call(Op.RELEASE, (w) => w.f64(h.o.fh));
});

/** One LISTTREE, parsed: its directories in order, each name with its entry and bytes when they came. */
async function listTree(conn: SocketConnection, budget: number, contentMax: number, inos: number[]) {
  const r = await conn.call(Op.LISTTREE, (w) => {
    w.u32(budget).u32(contentMax).u32(inos.length);
    for (const ino of inos) w.f64(ino);
  });
  return Array.from({ length: r.u32() }, () => {
    const ino = r.f64();
    const eof = r.u8() === 1;
    const items = Array.from({ length: r.u32() }, () => {
      const d = r.dirent();
      const flags = r.u8();
      const entry = flags & 1 ? r.entry() : undefined;
      const bytes = flags & 2 ? Buffer.from(r.bytes()) : undefined;
      return { name: d.name, ino: d.ino, kind: d.kind, entry, bytes };
    });
    return { ino, eof, items };
  });
}

test("LISTTREE: the listings asked for, then their subdirectories breadth first up to the budget, with small constant files' bytes", async (t) => {
  const m = await mountTracefs(t, { fuse: false });
  const conn = await SocketConnection.open(m.socket!);
  t.after(() => conn.close());
  const dirs = await listTree(conn, 1 << 20, 64, [ROOT_INO]);
  // The root first, then every directory under it once, each after the listing that named it (breadth first).
  assert.equal(dirs[0].ino, ROOT_INO);
  const path = new Map<number, string>([[ROOT_INO, '']]);
  const named: number[] = [];
  for (const d of dirs) {
    assert.ok(path.has(d.ino), `directory ${d.ino} listed before a listing named it`);
    assert.equal(d.eof, true);
    const list = await conn.call(Op.LIST, (w) => w.str(path.get(d.ino) || '/'));
    const names = Array.from({ length: list.u32() }, () => {
      const name = list.str();
      list.u8();
      return name;
    });
    assert.deepEqual(
      d.items.map((i) => i.name).filter((n) => n !== '.' && n !== '..'),
      names,
    );
    for (const i of d.items) {
      if (i.name === '.' || i.name === '..') {
        assert.equal(i.entry, undefined);
        continue;
      }
      assert.equal(i.entry?.ino, i.ino, `${i.name} came without its entry`);
      path.set(i.ino, `${path.get(d.ino)}/${i.name}`);
      if (i.kind === 'dir') named.push(i.ino);
    }
  }
  assert.deepEqual(
    dirs.slice(1).map((d) => d.ino),
    named,
  );
  // Bytes: the small constant files (every event's id), as READ_FILE reads them; never a generated file (tracing_on,
  // trace) nor a constant one above contentMax (README).
  let ids = 0;
  for (const d of dirs)
    for (const i of d.items) {
      const p = path.get(i.ino)!;
      if (i.name === 'id' && p.startsWith('/events/')) {
        ids++;
        assert.deepEqual(i.bytes, Buffer.from((await conn.call(Op.READ_FILE, (w) => w.str(p))).bytes()));
      }
      if (['tracing_on', 'trace', 'README', 'enable'].includes(i.name)) assert.equal(i.bytes, undefined, p);
    }
  assert.ok(ids > 0);
  // The lookups are held: a listed inode is usable without a LOOKUP.
  const deep = dirs[dirs.length - 1].ino;
  assert.equal((await conn.call(Op.GETATTR, (w) => w.f64(deep))).attr().ino, deep);
  // The budget: the first directory always, whole; then no more once that many names are listed.
  assert.equal((await listTree(conn, 1, 0, [ROOT_INO])).length, 1);
  const budget = dirs[0].items.length + 1;
  const few = await listTree(conn, budget, 0, [ROOT_INO]);
  assert.ok(few.length >= 2 && few.length < dirs.length);
  assert.ok(few.slice(0, -1).reduce((n, d) => n + d.items.length, 0) < budget);
  // Later directories this connection does not hold are skipped; the first must be held (else a bad frame).
  const skipped = await listTree(conn, 1 << 20, 0, [deep, 987654321]);
  assert.deepEqual(
    skipped.map((d) => d.ino),
    [deep],
  );
  const v3 = await hello(m.socket!, 3);
  t.after(() => v3.sock.destroy());
  assert.equal(v3.version, 3);
  v3.send(2, Op.LISTTREE, (w) => w.u32(10).u32(0).u32(1).f64(ROOT_INO));
  await v3.closed; // LISTTREE is version 4's
});
