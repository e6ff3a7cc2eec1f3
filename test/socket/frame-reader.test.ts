/**
 * The client's FrameReader, driven as net's `onread` drives it: each read lands in the buffer it asked for, however
 * the bytes are cut by the socket — bodies come out whole, each in the memory `place` chose for it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameReader } from '../../src/socket/frame-reader.js';
import { MAX_FRAME, Reader, Writer } from '../../src/socket/protocol.js';

/** Replies: an error (the shortest body), a small result, a READ of `n` bytes. */
function frames(): { bytes: Buffer; bodies: Buffer[] } {
  const list = [
    new Writer().u32(7).i32(2).frame(),
    new Writer().u32(8).i32(0).u32(3).frame(),
    new Writer().u32(9).i32(0).bytes(Buffer.alloc(70_000, 'a')).frame(),
    new Writer().u32(0).i32(0).u8(1).f64(5).frame(), // a notification
    new Writer().u32(10).i32(0).bytes(Buffer.from('end')).frame(),
  ].map((f) => Buffer.from(f));
  return { bytes: Buffer.concat(list), bodies: list.map((f) => f.subarray(4)) };
}

/** Feeds `bytes` in reads of at most `cut` bytes each (and never more than the reader asks for). */
function feed(reader: FrameReader, bytes: Buffer, cut: number): void {
  let at = 0;
  while (at < bytes.length) {
    const into = reader.onread.buffer();
    assert.ok(into.length > 0, 'asked for an empty read');
    const n = Math.min(into.length, cut, bytes.length - at);
    bytes.copy(into, 0, at, at + n);
    at += n;
    assert.equal(reader.onread.callback(n), true);
  }
}

test('FrameReader: whole bodies whatever the cuts, each read into the memory chosen for its id', () => {
  const { bytes, bodies } = frames();
  const reused = Buffer.alloc(80_000);
  for (const cut of [1, 3, 12, 13, 4096, 65_536, bytes.length]) {
    const got: Uint8Array[] = [];
    const reader = new FrameReader(
      (body) => got.push(Buffer.from(body)),
      (length, id) => (id === 9 ? reused : Buffer.alloc(length)),
      (err) => assert.fail(err),
    );
    const placed: Uint8Array[] = [];
    const spy = new FrameReader(
      (body) => placed.push(body),
      (length, id) => (id === 9 ? reused : Buffer.alloc(length)),
      (err) => assert.fail(err),
    );
    feed(reader, bytes, cut);
    feed(spy, bytes, cut);
    assert.deepEqual(
      got.map((b) => Buffer.from(b)),
      bodies,
      `cut ${cut}`,
    );
    // The READ's body is a view of the memory given for it, not a copy.
    assert.equal(placed[2].buffer, reused.buffer);
    assert.equal(new Reader(placed[2]).u32(), 9);
  }
});

test('FrameReader: a length below a reply header or above the largest frame fails, and reading stops', () => {
  for (const length of [4, MAX_FRAME + 1]) {
    let failed: Error | undefined;
    const reader = new FrameReader(
      () => assert.fail('delivered a bad frame'),
      (n) => Buffer.alloc(n),
      (err) => {
        failed = err;
      },
    );
    const head = Buffer.alloc(12);
    head.writeUInt32LE(length, 0);
    const into = reader.onread.buffer();
    head.copy(into);
    assert.equal(reader.onread.callback(12), false);
    assert.match(String(failed), /frame of/);
  }
});
