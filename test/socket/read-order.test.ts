/**
 * A handle's READs are answered in the order they came, one at a time, as the kernel sends a file's reads: a client
 * that keeps several READs of trace_pipe in flight (`ntrace cat` does) gets the lines in the order they were written,
 * even when data arrives between a parked READ and the next one.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { FrameSplitter, Op, PROTOCOL_VERSION, Reader, Writer } from '../../src/socket/protocol.js';
import { mountTracefs } from '../tracefs/helpers.js';

const O_WRONLY = 1;

test('READs of one handle in flight together answer in order, though a write lands between them', async (t) => {
  const m = await mountTracefs(t, { fuse: false });
  const sock = connect(m.socket!);
  t.after(() => sock.destroy());
  await new Promise((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  const frames = new FrameSplitter();
  const replies = new Map<number, Reader>();
  let arrived: () => void = () => {};
  sock.on('data', (chunk: Buffer) => {
    for (const body of frames.push(chunk)) {
      const r = new Reader(body);
      const id = r.u32();
      assert.equal(r.i32(), 0, `request ${id} failed`);
      replies.set(id, r);
    }
    arrived();
  });
  const until = (ids: number[]) =>
    new Promise<void>((resolve) => {
      arrived = () => {
        if (ids.every((id) => replies.has(id))) resolve();
      };
      arrived();
    });
  const frame = (id: number, op: number, args: (w: Writer) => void) => {
    const w = new Writer().u32(id).u8(op);
    args(w);
    return Buffer.from(w.frame());
  };
  sock.write(
    Buffer.concat([
      frame(1, Op.HELLO, (w) => w.u32(PROTOCOL_VERSION)),
      frame(2, Op.OPEN_PATH, (w) => w.str('trace_pipe').u32(0)),
      frame(3, Op.OPEN_PATH, (w) => w.str('trace_marker').u32(O_WRONLY)),
    ]),
  );
  await until([1, 2, 3]);
  const pipe = replies.get(2)!.open().fh;
  const marker = replies.get(3)!.open().fh;
  // One buffer, so the server takes them in one go: READ 10 parks on the empty pipe; the write that follows makes
  // data that READ 12 would take at once if it did not wait behind READ 10.
  const read = (id: number) =>
    frame(id, Op.READ, (w) =>
      w
        .f64(pipe)
        .f64(0)
        .u32(64 * 1024),
    );
  const write = (id: number, text: string) => frame(id, Op.WRITE, (w) => w.f64(marker).f64(0).bytes(Buffer.from(text)));
  sock.write(Buffer.concat([read(10), write(11, 'first'), read(12), write(13, 'second')]));
  await until([10, 11, 13]);
  sock.write(write(15, 'third')); // so READ 12 has something, whatever READ 10 took
  await until([12, 15]);
  const first = Buffer.from(replies.get(10)!.bytes()).toString();
  const then = Buffer.from(replies.get(12)!.bytes()).toString();
  assert.match(first, /first/, `the first READ did not get the first line: ${JSON.stringify(first)}`);
  assert.match(first + then, /first[\s\S]*second/, `lines out of order: ${JSON.stringify(first + then)}`);
  assert.doesNotMatch(then, /first/);
});
