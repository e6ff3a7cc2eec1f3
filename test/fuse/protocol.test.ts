/**
 * The request loop without a mount: requests are encoded by hand into a file, the server reads them as a framed
 * stream (as from the unprivileged relay), and its replies, written to another file, are decoded and checked byte
 * for byte. This pins the wire format and shows malformed input is answered, not fatal.
 */
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createControl } from '../../src/fuse/doorbell.js';
import { FuseServer, STAT_SLOTS } from '../../src/fuse/server.js';
import type { Vfs } from '../../src/kernfs/vfs.js';
import { createVfs } from './tree-fixture.js';

const LOOKUP = 1;
const FORGET = 2;
const GETATTR = 3;
const SETATTR = 4;
const OPEN = 14;
const READ = 15;
const INIT = 26;
const OPENDIR = 27;
const READDIRPLUS = 44;
const INTERRUPT = 36;
const FLUSH = 25;
const POLL = 40;

class Requests {
  private readonly parts: Buffer[] = [];
  private next = 2;

  /** Appends one request; returns its unique. */
  add(opcode: number, nodeid: number, body: Buffer = Buffer.alloc(0), uid = 0): number {
    const unique = this.next;
    this.next += 2;
    const h = Buffer.alloc(40);
    h.writeUInt32LE(40 + body.length, 0);
    h.writeUInt32LE(opcode, 4);
    h.writeBigUInt64LE(BigInt(unique), 8);
    h.writeBigUInt64LE(BigInt(nodeid), 16);
    h.writeUInt32LE(uid, 24);
    h.writeUInt32LE(uid, 28);
    h.writeUInt32LE(process.pid, 32);
    this.parts.push(h, body);
    return unique;
  }

  raw(b: Buffer): void {
    this.parts.push(b);
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

interface Reply {
  error: number;
  unique: number;
  body: Buffer;
}

function u32s(...xs: number[]): Buffer {
  const b = Buffer.alloc(xs.length * 4);
  xs.forEach((x, i) => {
    b.writeUInt32LE(x, i * 4);
  });
  return b;
}

function u64(x: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(x));
  return b;
}

const cstr = (s: string) => Buffer.from(`${s}\0`);

async function serve(vfs: Vfs, reqs: Requests): Promise<Map<number, Reply>> {
  const dir = mkdtempSync(join(tmpdir(), 'ntrace-fuse-proto-'));
  try {
    writeFileSync(join(dir, 'in'), reqs.bytes());
    const inFd = openSync(join(dir, 'in'), 'r');
    const outFd = openSync(join(dir, 'out'), 'w');
    const server = new FuseServer(
      { readFd: inFd, writeFd: outFd, framed: true },
      vfs,
      { maxWrite: 128 * 1024, rootAttrValidMs: 1000, dirCache: true },
      { initialized: () => {}, woken: () => {}, notifyOffThread: () => {} },
      createControl(),
      new SharedArrayBuffer(STAT_SLOTS * 8),
    );
    await server.run();
    closeSync(inFd);
    closeSync(outFd);
    const out = readFileSync(join(dir, 'out'));
    const replies = new Map<number, Reply>();
    for (let at = 0; at < out.length; ) {
      const len = out.readUInt32LE(at);
      const unique = Number(out.readBigUInt64LE(at + 8));
      assert.ok(!replies.has(unique), `two replies for ${unique}`);
      replies.set(unique, { error: out.readInt32LE(at + 4), unique, body: out.subarray(at + 16, at + len) });
      at += len;
    }
    return replies;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const env = {
  doorbell: createControl(),
  doorbellIndex: 0,
  ring() {},
  onWake: () => () => {},
  onMessage: () => () => {},
  invalidationsSent: () => Promise.resolve(),
  postMessage() {},
};

test('INIT, LOOKUP, GETATTR, SETATTR, FORGET on the wire', async () => {
  const vfs = createVfs({}, env);
  const start = vfs.liveInodes();
  const r = new Requests();
  const init = r.add(INIT, 0, u32s(7, 45, 65536, 0xffffffff, 0, ...new Array(11).fill(0)));
  const hello = r.add(LOOKUP, 1, cstr('hello'));
  const missing = r.add(LOOKUP, 1, cstr('nope'));
  const replies0 = await serve(vfs, r);
  const i = replies0.get(init)!;
  assert.equal(i.error, 0);
  assert.equal(i.body.length, 64);
  assert.deepEqual([i.body.readUInt32LE(0), i.body.readUInt32LE(4)], [7, 45]);
  const flags = i.body.readUInt32LE(12);
  assert.ok(flags & (1 << 3), 'ATOMIC_O_TRUNC');
  assert.ok(flags & (1 << 13), 'DO_READDIRPLUS');
  assert.ok(!(flags & (1 << 0)), 'no ASYNC_READ');
  assert.equal(i.body.readUInt32LE(20), 128 * 1024); // max_write

  const e = replies0.get(hello)!;
  assert.equal(e.error, 0);
  assert.equal(e.body.length, 128);
  const ino = Number(e.body.readBigUInt64LE(0));
  assert.equal(Number(e.body.readBigUInt64LE(16)), 1); // entry_valid: kernfs's default 1 s
  assert.equal(e.body.readUInt32LE(40 + 60), 0o100444); // attr.mode
  assert.equal(Number(e.body.readBigUInt64LE(40)), ino); // attr.ino
  assert.equal(replies0.get(missing)!.error, -2);
  assert.equal(vfs.liveInodes(), start + 1);

  const r2 = new Requests();
  r2.add(INIT, 0, u32s(7, 45, 65536, 0xffffffff));
  const ga = r2.add(GETATTR, ino, Buffer.alloc(16));
  const sa = Buffer.alloc(88);
  sa.writeUInt32LE(1, 0); // FATTR_MODE
  sa.writeUInt32LE(0o100400, 68);
  const set = r2.add(SETATTR, ino, sa);
  r2.add(FORGET, ino, u64(1));
  const replies = await serve(vfs, r2);
  assert.equal(replies.get(ga)!.body.length, 104);
  assert.equal(replies.get(ga)!.body.readUInt32LE(16 + 60), 0o100444);
  assert.equal(replies.get(set)!.body.readUInt32LE(16 + 60), 0o100400);
  assert.equal(replies.size, 3, 'FORGET has no reply');
  assert.equal(vfs.liveInodes(), start);
});

test('READDIRPLUS counts a lookup per entry but . and ..; OPEN/READ; FLUSH is ENOSYS', async () => {
  const vfs = createVfs({}, env);
  const start = vfs.liveInodes();
  const r = new Requests();
  r.add(INIT, 0, u32s(7, 45, 65536, 0xffffffff));
  const od = r.add(OPENDIR, 1, u32s(0, 0));
  const readIn = Buffer.concat([u64(0), u64(0), u32s(4096, 0), u64(0), u32s(0, 0)]);
  const rd = r.add(READDIRPLUS, 1, readIn);
  const replies = await serve(vfs, r);
  assert.equal(replies.get(od)!.error, -38, 'zero-message opendir');
  const body = replies.get(rd)!.body;
  const names: string[] = [];
  let counted = 0;
  for (let at = 0; at < body.length; ) {
    const nodeid = Number(body.readBigUInt64LE(at));
    const namelen = body.readUInt32LE(at + 128 + 16);
    const name = body.toString('utf8', at + 152, at + 152 + namelen);
    names.push(name);
    if (nodeid !== 0) counted++;
    if (name === '.' || name === '..') assert.equal(nodeid, 0);
    at += (152 + namelen + 7) & ~7;
  }
  assert.deepEqual(names.slice(0, 2), ['.', '..']);
  assert.ok(names.includes('hello') && names.includes('events') && names.includes('link'));
  assert.equal(counted, names.length - 2);
  assert.equal(vfs.liveInodes(), start + counted);

  const hello = vfs.lookup(1, 'hello', { cred: { uid: 0, gid: 0, pid: 0, groups: [] } }).ino;
  const r2 = new Requests();
  const open = r2.add(OPEN, hello, u32s(0, 0));
  const o = (await serve(vfs, r2)).get(open)!;
  assert.equal(o.error, 0);
  assert.equal(o.body.readUInt32LE(8) & 1, 1, 'FOPEN_DIRECT_IO');
  const fh = Number(o.body.readBigUInt64LE(0));
  const r3 = new Requests();
  const read = r3.add(READ, hello, Buffer.concat([u64(fh), u64(0), u32s(4096, 0), u64(0), u32s(0, 0)]));
  const flush = r3.add(FLUSH, hello, Buffer.concat([u64(fh), u32s(0, 0), u64(0)]));
  const poll = r3.add(POLL, hello, Buffer.concat([u64(fh), u64(7), u32s(1, 1)]));
  const replies3 = await serve(vfs, r3);
  assert.equal(replies3.get(read)!.body.toString(), 'hello world\n');
  assert.equal(replies3.get(flush)!.error, -38);
  assert.equal(replies3.get(poll)!.body.readUInt32LE(0) & 1, 1, 'a plain file polls ready, never ENOSYS');
});

test('malformed and unknown requests are answered and the loop goes on', async () => {
  const vfs = createVfs({}, env);
  const r = new Requests();
  r.add(INIT, 0, u32s(7, 45, 65536, 0xffffffff));
  const unknown = r.add(9999, 1);
  const noNul = r.add(LOOKUP, 1, Buffer.from('hello')); // name without its NUL: read to the end of the request
  const badIno = r.add(GETATTR, 123456789, Buffer.alloc(16));
  const shortBody = r.add(SETATTR, 1); // no fuse_setattr_in at all
  r.add(INTERRUPT, 0, u64(424242)); // for a request that does not exist: ignored
  const after = r.add(LOOKUP, 1, cstr('ro'));
  r.raw(Buffer.from([1, 2, 3])); // a truncated trailing header: the stream ends, no crash
  const replies = await serve(vfs, r);
  assert.equal(replies.get(unknown)!.error, -38);
  assert.equal(replies.get(noNul)!.error, 0);
  assert.ok(replies.get(badIno)!.error < 0);
  assert.ok(replies.has(shortBody));
  assert.equal(replies.get(after)!.error, 0);
});

test('an old kernel protocol is refused with EPROTO', async () => {
  const vfs = createVfs({}, env);
  const r = new Requests();
  const init = r.add(INIT, 0, u32s(7, 12, 65536, 0));
  const replies = await serve(vfs, r);
  assert.equal(replies.get(init)!.error, -71);
});
