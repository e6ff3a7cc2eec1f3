import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TraceRecord } from '../../../src/trace/record.js';
import { TextFileReader, type TextSource, traceFileText } from '../../../src/trace/text/file-text.js';
import { LineWriter } from '../../../src/trace/text/line-writer.js';
import { type PipeItem, TracePipeText } from '../../../src/trace/text/pipe-stream.js';
import { DEFAULT_TRACE_TEXT_OPTIONS, traceHeader, traceLine } from '../../../src/trace/text/trace-line.js';
import { encodeRecord, makeEvent, makeRecord } from './support.js';

const e = makeEvent(40, 'app', 'msg', { n: 'u32', s: 'string' });
const rec = (n: number, s = `message number ${n}`) =>
  makeRecord(e, encodeRecord(e, { n, s }), { comm: 'node', pid: 100, cpu: n % 4, ts: BigInt(n) * 1000n });

function source(records: (TraceRecord | PipeItem)[]): () => TraceRecord | PipeItem | undefined {
  let i = 0;
  return () => records[i++];
}

const decoder = new TextDecoder();

test('trace_pipe: reads of any size return the same bytes as the lines, continuing mid-line', () => {
  const records = Array.from({ length: 50 }, (_, i) => rec(i));
  const want = records.map((r) => traceLine(r)).join('');
  for (const size of [1, 7, 64, 100, 4095, 65536]) {
    const pipe = new TracePipeText(source(records));
    const parts: Uint8Array[] = [];
    for (;;) {
      const b = pipe.read(size);
      if (b.length === 0) break;
      assert.ok(b.length <= size, `read ${b.length} > ${size}`);
      parts.push(b.slice());
    }
    assert.equal(decoder.decode(Buffer.concat(parts)), want, `read size ${size}`);
    assert.equal(pipe.hasBuffered, false);
  }
});

test('trace_pipe: reads into lent memory keep nothing of it, give the same bytes, and stop short of growing out', () => {
  const records = Array.from({ length: 3000 }, (_, i) => rec(i));
  const want = records.map((r) => traceLine(r)).join('');
  for (const [size, lentSize] of [
    [65536, 65536],
    [65536, 131072],
    [100, 131072],
    [5000, 5000],
  ]) {
    const pipe = new TracePipeText(source(records));
    const lent = new Uint8Array(lentSize);
    const parts: Uint8Array[] = [];
    for (;;) {
      const b = pipe.read(size, lent);
      if (b.length === 0) break;
      assert.ok(b.length <= size, `read ${b.length} > ${size}`);
      if (size >= 65536) assert.equal(b.buffer, lent.buffer, 'written in the lent memory');
      parts.push(b.slice());
      lent.fill(0x21); // the transport reuses it: nothing read later may come from it
    }
    assert.equal(decoder.decode(Buffer.concat(parts)), want, `read size ${size}, lent ${lentSize}`);
  }
});

test('trace_pipe: a read after a cut line returns only the rest of that line', () => {
  const pipe = new TracePipeText(source([rec(1), rec(2)]));
  const line1 = traceLine(rec(1));
  const first = decoder.decode(pipe.read(10));
  assert.equal(first, line1.slice(0, 10));
  assert.ok(pipe.hasBuffered);
  assert.equal(decoder.decode(pipe.read(4096)), line1.slice(10));
  assert.equal(decoder.decode(pipe.read(4096)), traceLine(rec(2)));
  assert.equal(pipe.read(4096).length, 0);
});

test('trace_pipe: empty source returns nothing, then data as it arrives; lost events are announced', () => {
  const queue: (TraceRecord | PipeItem)[] = [];
  const pipe = new TracePipeText(() => queue.shift());
  assert.equal(pipe.read(4096).length, 0);
  assert.equal(pipe.read(0).length, 0);
  queue.push({ record: rec(3), lostEvents: 12 });
  assert.equal(decoder.decode(pipe.read(4096)), `CPU:3 [LOST 12 EVENTS]\n${traceLine(rec(3))}`);
  assert.equal(pipe.read(4096).length, 0);
});

test('trace_pipe: a read returns as many whole lines as fit; long lines still come out whole', () => {
  const records = Array.from({ length: 200 }, (_, i) => rec(i));
  const all = records.map((r) => traceLine(r)).join('');
  assert.equal(decoder.decode(new TracePipeText(source(records)).read(1 << 20)), all, 'one large read takes them all');
  const pipe = new TracePipeText(source(records));
  const b = pipe.read(4096);
  const head = decoder.decode(b);
  assert.ok(head.endsWith('\n') && b.length > 4096 - 200, 'a read ends on a line boundary, nearly full');
  assert.equal(head + decoder.decode(pipe.read(1 << 20)), all);
  // Multi-byte text: the lines are cut after encoding, still at line boundaries.
  const wide = Array.from({ length: 100 }, (_, i) => rec(i, `é€😀 ${i}`));
  const wideAll = wide.map((r) => traceLine(r)).join('');
  const wpipe = new TracePipeText(source(wide));
  const parts: string[] = [];
  for (let w = wpipe.read(1000); w.length > 0; w = wpipe.read(1000)) {
    assert.ok(w.length <= 1000 && w[w.length - 1] === 0x0a, 'whole lines within the read size');
    parts.push(decoder.decode(w));
  }
  assert.equal(parts.join(''), wideAll);
  const big = rec(1, 'x'.repeat(10000));
  const pipe2 = new TracePipeText(source([big, rec(2)]));
  let text = '';
  for (let b2 = pipe2.read(65536); b2.length; b2 = pipe2.read(65536)) text += decoder.decode(b2);
  assert.equal(text, traceLine(big) + traceLine(rec(2)));
});

test('trace_pipe: options changes apply to the next line; a throwing source reads as empty', () => {
  let o = DEFAULT_TRACE_TEXT_OPTIONS;
  const queue: TraceRecord[] = [rec(1)];
  const pipe = new TracePipeText(
    () => queue.shift(),
    () => o,
  );
  assert.equal(decoder.decode(pipe.read(4096)), traceLine(rec(1)));
  o = { ...o, contextInfo: false };
  queue.push(rec(5));
  assert.equal(decoder.decode(pipe.read(4096)), 'msg: n=5 s=message number 5\n');
  const p3 = new TracePipeText(() => {
    throw new Error('boom');
  });
  assert.equal(p3.read(100).length, 0);
});

/** The whole text a source makes, in one write. */
function wholeText(src: TextSource): Buffer {
  const w = new LineWriter(64);
  while (src.write(w, Number.POSITIVE_INFINITY)) {}
  return Buffer.from(w.buf.subarray(0, w.pos));
}
const fileText = (...args: Parameters<typeof traceFileText>) => wholeText(traceFileText(...args)).toString();

/** The text `reader` gives from offset 0 to its end in reads of `size` (in lent memory of `lent` bytes if given). */
function readAll(reader: TextFileReader, size: number, lent?: number): Buffer {
  const into = lent === undefined ? undefined : new Uint8Array(lent);
  const parts: Buffer[] = [];
  for (let off = 0; ; ) {
    const b = reader.read(off, size, into);
    if (b.length === 0) break;
    assert.ok(b.length <= size);
    parts.push(Buffer.from(b));
    into?.fill(0x21); // the transport reuses its memory: nothing of it may be kept
    off += b.length;
  }
  return Buffer.concat(parts);
}

test('trace file text: header then lines', () => {
  const text = fileText({ entries: 2, written: 2, cpus: 4 }, [rec(1), rec(2)]);
  assert.match(text, /^# tracer: nop\n#\n# entries-in-buffer\/entries-written: 2\/2 {3}#P:4\n/);
  assert.ok(text.endsWith(traceLine(rec(1)) + traceLine(rec(2))));
  const header = traceHeader({ entries: 2, written: 2, cpus: 4 });
  assert.equal(text, header + traceLine(rec(1)) + traceLine(rec(2)));
  assert.equal(
    fileText({ entries: 2, written: 2, cpus: 4 }, [rec(1)], DEFAULT_TRACE_TEXT_OPTIONS, 'H\n'),
    `H\n${traceLine(rec(1))}`,
  );
  // Many lines, written a little at a time, together the same text; a next() function serves as the iterable.
  const many = Array.from({ length: 2000 }, (_, i) => rec(i));
  const src = traceFileText({ entries: 2, written: 2, cpus: 4 }, many);
  const w = new LineWriter(64);
  let writes = 0;
  for (let stop = 1000; src.write(w, stop); stop = w.pos + 1000) writes++;
  assert.ok(writes > 100);
  const want = header + many.map((r) => traceLine(r)).join('');
  assert.equal(Buffer.from(w.buf.subarray(0, w.pos)).toString(), want);
  let i = 0;
  assert.equal(
    fileText({ entries: 2, written: 2, cpus: 4 }, () => many[i++]),
    want,
  );
});

test('trace file text: after overruns, each CPU but the first announces where its buffer starts', () => {
  const recs = [rec(1), rec(5), rec(2), rec(6), rec(3)]; // cpus 1, 1, 2, 2, 3
  const lines = (written: number, annotate = true) =>
    fileText({ entries: 5, written, cpus: 4 }, recs, { ...DEFAULT_TRACE_TEXT_OPTIONS, annotate }, '');
  assert.equal(lines(5), recs.map((r) => traceLine(r)).join(''));
  assert.equal(
    lines(9),
    [
      traceLine(recs[0]),
      traceLine(recs[1]),
      `##### CPU 2 buffer started ####\n${traceLine(recs[2])}`,
      traceLine(recs[3]),
      `##### CPU 3 buffer started ####\n${traceLine(recs[4])}`,
    ].join(''),
  );
  assert.equal(lines(9, false), recs.map((r) => traceLine(r)).join(''));
});

test('text file reader: any offsets and sizes give the bytes of the whole text; backwards reads regenerate', () => {
  let generations = 0;
  const make = () => {
    generations++;
    return traceFileText(
      { entries: 40, written: 40, cpus: 4 },
      Array.from({ length: 40 }, (_, i) => rec(i, `é ${i}`)),
    );
  };
  const whole = wholeText(make());
  generations = 0;
  const reader = new TextFileReader(make);
  for (const size of [1, 13, 4096, 1 << 20]) assert.deepEqual(readAll(reader, size), whole, `size ${size}`);
  assert.equal(generations, 4, 'each pass from offset 0 after the end regenerates once');
  // Reads in lent memory, of every shape: as large as the read, larger, and too small for a line's room at its end
  // (the read then returns less than asked); lines cut at every read's end, many reads or one: the same bytes.
  const make3000 = () =>
    traceFileText(
      { entries: 3000, written: 3000, cpus: 4 },
      Array.from({ length: 3000 }, (_, i) => rec(i)),
    );
  const wholeMany = wholeText(make3000());
  for (const [size, lent] of [
    [65536, 65536],
    [65536, 65536 + 4096],
    [4097, 8192],
    [4096, 4096],
    [100, 100],
    [5000, 5001],
    [1 << 20, 1 << 20],
  ]) {
    const got = readAll(new TextFileReader(make3000), size, lent);
    assert.deepEqual(got, wholeMany, `reads of ${size} in ${lent} lent bytes`);
  }
  // A forward jump makes the text in between and drops it.
  const jumping = new TextFileReader(make3000);
  for (const off of [0, 10, 70000, 70001, 150000, wholeMany.length - 5]) {
    assert.deepEqual(Buffer.from(jumping.read(off, 300, new Uint8Array(8192))), wholeMany.subarray(off, off + 300));
  }
  assert.equal(jumping.read(wholeMany.length + 10, 300).length, 0);
  assert.deepEqual(Buffer.from(reader.read(100, 50)), whole.subarray(100, 150));
  assert.deepEqual(Buffer.from(reader.read(120, 10)), whole.subarray(120, 130));
  assert.deepEqual(Buffer.from(reader.read(5, 10)), whole.subarray(5, 15));
  assert.equal(reader.read(whole.length, 10).length, 0);
  assert.equal(reader.read(-1, 10).length, 0);
  const failing = new TextFileReader(() => ({
    write(w: LineWriter) {
      w.text('abc');
      throw new Error('boom');
    },
  }));
  assert.equal(decoder.decode(failing.read(0, 100)), 'abc');
});
