import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineEvent } from '../../../src/index.js';
import {
  ConsumingReader,
  cpuStats,
  createInstance,
  destroyInstance,
  setBufferSizeKb,
  setEventEnabled,
  setOption,
  TraceIterator,
} from '../../../src/trace/engine.js';
import { decodeRecord, drain } from './support.js';

// seq u32 + pad u32 after the 8 common bytes: 16-byte payload + 4-byte header = 20 bytes; 4080 / 20 = 204 a page.
const PER_PAGE = 204;
const ev = defineEvent('ovr', 'rec', { seq: 'u32', pad: 'u32' });

function setup(name: string, kb: number): { inst: number; cpu: () => number } {
  const inst = createInstance(name);
  setBufferSizeKb(inst, kb);
  setEventEnabled(inst, ev.id, true);
  return { inst, cpu: () => drainCpu(inst) };
}

function drainCpu(inst: number): number {
  const r = new TraceIterator(inst).next();
  assert.ok(r);
  return r.cpu;
}

function seqs(inst: number): number[] {
  return drain(new TraceIterator(inst)).map((r) => decodeRecord(r).seq as number);
}

test('nothing is lost while the buffer is large enough', (t) => {
  const { inst, cpu } = setup('big', 1024);
  t.after(() => destroyInstance(inst));
  for (let i = 0; i < 10000; i++) ev.emit({ seq: i, pad: 0 });
  assert.deepEqual(
    seqs(inst),
    Array.from({ length: 10000 }, (_, i) => i),
  );
  const st = cpuStats(inst, cpu());
  assert.equal(st.entries, 10000);
  assert.equal(st.overrun, 0);
  assert.equal(st.written, 10000);
});

test('overwrite mode drops the oldest pages and counts the overrun exactly', (t) => {
  const { inst, cpu } = setup('small', 8); // 2 pages
  t.after(() => destroyInstance(inst));
  const total = 1000;
  for (let i = 0; i < total; i++) ev.emit({ seq: i, pad: 0 });
  const kept = PER_PAGE + (total % PER_PAGE || PER_PAGE);
  const got = seqs(inst);
  assert.deepEqual(
    got,
    Array.from({ length: kept }, (_, i) => total - kept + i),
  );
  const st = cpuStats(inst, cpu());
  assert.equal(st.entries, kept);
  assert.equal(st.overrun, total - kept);
  assert.equal(st.written, total);
  assert.equal(st.dropped, 0);
});

test('records consumed before an overwrite are not counted as overrun', (t) => {
  const { inst, cpu } = setup('partial', 8);
  t.after(() => destroyInstance(inst));
  for (let i = 0; i < PER_PAGE; i++) ev.emit({ seq: i, pad: 0 });
  const c = new ConsumingReader(inst);
  for (let i = 0; i < 100; i++) assert.equal(decodeRecord(c.next()!).seq, i);
  for (let i = PER_PAGE; i < 3 * PER_PAGE; i++) ev.emit({ seq: i, pad: 0 });
  const st = cpuStats(inst, cpu());
  assert.equal(st.read, 100);
  assert.equal(st.overrun, PER_PAGE - 100);
  assert.equal(st.entries, 2 * PER_PAGE);
  // The consumer continues with the oldest record still there.
  assert.equal(decodeRecord(c.next()!).seq, PER_PAGE);
});

test('no-overwrite mode keeps the oldest records and counts the dropped ones', (t) => {
  const { inst, cpu } = setup('keep', 8);
  t.after(() => destroyInstance(inst));
  assert.ok(setOption(inst, 'overwrite', false));
  for (let i = 0; i < 1000; i++) ev.emit({ seq: i, pad: 0 });
  assert.deepEqual(
    seqs(inst),
    Array.from({ length: 2 * PER_PAGE }, (_, i) => i),
  );
  const st = cpuStats(inst, cpu());
  assert.equal(st.entries, 2 * PER_PAGE);
  assert.equal(st.dropped, 1000 - 2 * PER_PAGE);
  assert.equal(st.overrun, 0);
  // Once a consumer frees a page, writing resumes.
  const c = new ConsumingReader(inst);
  assert.equal(drain(c).length, 2 * PER_PAGE);
  for (let i = 0; i < 10; i++) ev.emit({ seq: 5000 + i, pad: 0 });
  assert.deepEqual(
    seqs(inst),
    Array.from({ length: 10 }, (_, i) => 5000 + i),
  );
});

test('the ring wraps around past 65536 pages (16-bit page tags)', (t) => {
  const big = defineEvent('ovr', 'page', { seq: 'u32', text: 'string' });
  const inst = createInstance('wrap');
  t.after(() => destroyInstance(inst));
  setBufferSizeKb(inst, 12); // 3 pages
  setEventEnabled(inst, big.id, true);
  const text = 'x'.repeat(2100); // one record a page
  const total = 70000;
  for (let i = 0; i < total; i++) big.emit({ seq: i, text });
  const got = drain(new TraceIterator(inst)).map((r) => decodeRecord(r));
  assert.deepEqual(
    got.map((d) => d.seq),
    [total - 3, total - 2, total - 1],
  );
  assert.equal(got[2].text, text);
  const st = cpuStats(inst, new TraceIterator(inst).next()!.cpu);
  assert.equal(st.overrun, total - 3);
});

test('a consumer the writer keeps lapping starts again past the page the writer takes next', (t) => {
  const { inst, cpu } = setup('lapped', 128); // 32 pages: a lapped-again consumer skips an eighth, 4 pages
  t.after(() => destroyInstance(inst));
  let next = 0;
  const emitPages = (pages: number) => {
    for (const end = next + pages * PER_PAGE; next < end; next++) ev.emit({ seq: next, pad: 0 });
  };
  const firstOfOldest = () => (Math.floor((next - 1) / PER_PAGE) - 31) * PER_PAGE;
  ev.emit({ seq: next++, pad: 0 });
  const c = new ConsumingReader(inst);
  assert.equal(decodeRecord(c.next()!).seq, 0);
  // Lapped once: like the kernel's reader, it goes on with the oldest page still there.
  emitPages(34);
  assert.equal(decodeRecord(c.next()!).seq, firstOfOldest());
  // Lapped again before it caught up: the oldest page is the one the writer overwrites next; it starts 4 on.
  emitPages(32);
  assert.equal(decodeRecord(c.next()!).seq, firstOfOldest() + 4 * PER_PAGE);
  // Every record is accounted for: read, overwritten unread (the pages passed over too, once the writer takes them),
  // or still there.
  const rest = drain(c).map((r) => decodeRecord(r).seq as number);
  assert.equal(rest.at(-1), next - 1);
  let st = cpuStats(inst, cpu());
  assert.equal(st.read + st.overrun + st.entries, next);
  // Caught up: the next lap is a first one again.
  emitPages(33);
  assert.equal(decodeRecord(c.next()!).seq, firstOfOldest());
  drain(c);
  emitPages(40);
  st = cpuStats(inst, cpu());
  assert.equal(st.read + st.overrun + st.entries, next);
});
