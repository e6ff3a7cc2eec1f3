/** The text output over the engine's real rings and readers: what `trace`, `trace_pipe` and `stats` will show. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineEvent } from '../../../src/index.js';
import {
  bufferTotals,
  ConsumingReader,
  clearBuffer,
  cpuCount,
  cpuStats,
  getEvent,
  getOption,
  instanceClockInNs,
  setEventEnabled,
  setOption,
  TOP_INSTANCE,
  TraceIterator,
  writeMarker,
  writeMarkerRaw,
  writeStack,
} from '../../../src/trace/engine.js';
import type { TraceRecord } from '../../../src/trace/record.js';
import { formatFileText } from '../../../src/trace/text/format-file.js';
import { TracePipeText } from '../../../src/trace/text/pipe-stream.js';
import { statsText } from '../../../src/trace/text/stats.js';
import {
  DEFAULT_TRACE_TEXT_OPTIONS,
  traceHeader,
  traceLine,
  traceTextOptions,
} from '../../../src/trace/text/trace-line.js';
import { SCALAR_FIELDS } from './support.js';

// `<comm>-<pid> [CPU] ..... <sec>.<usec>: ` as printed for a record of this process.
const CONTEXT = new RegExp(`^ *\\S+-${process.pid} *\\[\\d{3}\\] \\.{5} +\\d+\\.\\d{6}: `);

function drain(): TraceRecord[] {
  return [...new TraceIterator(TOP_INSTANCE)];
}

function body(line: string): string {
  assert.match(line, CONTEXT);
  return line.replace(CONTEXT, '');
}

test('every field type, emitted for real, prints as the kernel would', () => {
  clearBuffer(TOP_INSTANCE);
  const ev = defineEvent('text', 'all_types', {
    ...SCALAR_FIELDS,
    l: 'char[8]',
    m: 'u8[3]',
    n: 's64[2]',
  });
  assert.ok(setEventEnabled(TOP_INSTANCE, ev.id, true));
  ev.emit({
    a: 255,
    b: 65535,
    c: 4294967295,
    d: 18446744073709551615n,
    e: -128,
    g: -32768,
    h: -2147483648,
    i: -9223372036854775808n,
    j: true,
    k: 'GET /x',
    l: 'eight888',
    m: [1, 32, 255],
    n: [-1n, 2],
  });
  const http = defineEvent(
    'text',
    'request',
    { method: 'string', url: 'string', status: 'u16', bytes: 'u32' },
    { print: 'method=%s url=%s status=%u bytes=%u' },
  );
  setEventEnabled(TOP_INSTANCE, http.id, true);
  http.emit({ method: 'GET', url: '/api/items', status: 200, bytes: 512 });
  const lines = drain().map((r) => traceLine(r));
  assert.deepEqual(lines.map(body), [
    'all_types: a=255 b=65535 c=4294967295 d=18446744073709551615 e=-128 g=-32768 h=-2147483648 ' +
      'i=-9223372036854775808 j=1 k=GET /x l=eight888 m={0x1,0x20,0xff} n={0xffffffffffffffff,0x2}\n',
    'request: method=GET url=/api/items status=200 bytes=512\n',
  ]);
  // The format file of a registered event, as the registry describes it.
  const desc = getEvent(http.id)!;
  assert.match(
    formatFileText(desc),
    /\nprint fmt: "method=%s url=%s status=%u bytes=%u", __get_str\(method\), __get_str\(url\), REC->status, REC->bytes\n$/,
  );
  setEventEnabled(TOP_INSTANCE, ev.id, false);
  setEventEnabled(TOP_INSTANCE, http.id, false);
});

test('trace_marker and trace_marker_raw records print as the kernel prints them', () => {
  clearBuffer(TOP_INSTANCE);
  assert.equal(writeMarker(TOP_INSTANCE, 'hello marker'), 12);
  assert.equal(writeMarker(TOP_INSTANCE, 'with newline\n'), 13);
  const raw = new Uint8Array([0x78, 0x56, 0x34, 0x12, 0x41, 0x00, 0xff]);
  assert.equal(writeMarkerRaw(TOP_INSTANCE, raw), 7);
  const lines = drain().map((r) => body(traceLine(r)));
  assert.deepEqual(lines, [
    'tracing_mark_write: hello marker\n',
    'tracing_mark_write: with newline\n',
    '# 12345678 buf: 41 00 ff\n',
  ]);
});

test('a stack record (ftrace:kernel_stack) prints as the kernel prints its stack traces', () => {
  clearBuffer(TOP_INSTANCE);
  assert.equal(writeStack(TOP_INSTANCE, ['frameOne (/app/a.js:1:2)', 'frameTwo (/app/b.js:3:4)']), 2);
  assert.equal(writeStack(TOP_INSTANCE, []), 0, 'an empty stack is recorded, with no frames');
  const recs = drain();
  assert.deepEqual(
    recs.map((r) => `${r.event?.system}:${r.event?.name}:${r.id}`),
    ['ftrace:kernel_stack:4', 'ftrace:kernel_stack:4'],
  );
  assert.deepEqual(
    recs.map((r) => body(traceLine(r))),
    ['<stack trace>\n => frameOne (/app/a.js:1:2)\n => frameTwo (/app/b.js:3:4)\n', '<stack trace>\n'],
  );
  const rec = recs[0];
  const o = (names: string[]) => traceTextOptions((n) => (names.includes(n) ? true : undefined));
  // The kernel's stack event has no raw/hex printer: trace_nop_print's `type: 4`.
  assert.equal(traceLine(rec, o(['raw'])), `${process.pid} ${rec.cpu} ${rec.ts} type: 4\n`);
  assert.match(traceLine(rec, o(['hex'])), /^[0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{16} type: 4\n\n$/);
  assert.equal(
    body(traceLine(rec, o(['fields']))),
    'kernel_stack: size=0x2 (2) caller=frameOne (/app/a.js:1:2)\nframeTwo (/app/b.js:3:4)\n',
  );
  // printk-msg-only is about trace_printk/trace_marker messages only.
  assert.equal(body(traceLine(rec, o(['printk-msg-only']))), body(traceLine(rec)));
  assert.match(
    formatFileText(getEvent(4)!),
    /^name: kernel_stack\nID: 4\n[\s\S]*\tfield:s32 size;\toffset:8;\tsize:4;\tsigned:1;\n\tfield:__data_loc char\[\] caller;\toffset:12;\tsize:4;\tsigned:0;\n\nprint fmt: "size=%d\\n%s", REC->size, __get_str\(caller\)\n$/,
  );
});

test('a stack keeps only whole frames that fit one record', () => {
  clearBuffer(TOP_INSTANCE);
  const frame = `f (${'x'.repeat(990)})`;
  assert.equal(writeStack(TOP_INSTANCE, [frame, frame, frame, frame, frame, 'a\nb']), 4);
  const [rec] = drain();
  const lines = body(traceLine(rec)).split('\n');
  assert.deepEqual(lines, ['<stack trace>', ` => ${frame}`, ` => ${frame}`, ` => ${frame}`, ` => ${frame}`, '']);
  clearBuffer(TOP_INSTANCE);
  assert.equal(writeStack(TOP_INSTANCE, ['a\nb']), 1, 'a newline inside a frame does not split it');
  assert.equal(body(traceLine(drain()[0])), '<stack trace>\n => a b\n');
});

test('trace_pipe over the consuming reader: partial reads, then empty; stats and header agree', () => {
  clearBuffer(TOP_INSTANCE);
  const ev = defineEvent('text', 'pipe', { n: 'u32', s: 'string' });
  setEventEnabled(TOP_INSTANCE, ev.id, true);
  for (let i = 0; i < 100; i++) ev.emit({ n: i, s: `line ${i}` });
  const iterated = drain().map((r) => traceLine(r));
  assert.equal(iterated.length, 100);
  const cpu = drain()[0].cpu;
  const stats = cpuStats(TOP_INSTANCE, cpu);
  assert.match(
    statsText(stats),
    /^entries: 100\noverrun: 0\ncommit overrun: 0\nbytes: \d+\noldest event ts: +\d+\.\d{6}\nnow ts: +\d+\.\d{6}\ndropped events: 0\nread events: 0\n$/,
  );
  const totals = bufferTotals(TOP_INSTANCE);
  assert.match(
    traceHeader({ ...totals, cpus: cpuCount() }),
    new RegExp(`# entries-in-buffer/entries-written: 100/100   #P:${cpuCount()}\n`),
  );
  const reader = new ConsumingReader(TOP_INSTANCE);
  const pipe = new TracePipeText(() => reader.next(), DEFAULT_TRACE_TEXT_OPTIONS);
  let text = '';
  for (let b = pipe.read(333); b.length > 0; b = pipe.read(333)) text += new TextDecoder().decode(b);
  assert.equal(text, iterated.join(''));
  const after = statsText(cpuStats(TOP_INSTANCE, cpu));
  assert.match(after, /^entries: 0\n/);
  assert.match(after, /read events: 100\n$/);
  setEventEnabled(TOP_INSTANCE, ev.id, false);
});

test('records of a removed event still print', () => {
  clearBuffer(TOP_INSTANCE);
  const ev = defineEvent('text', 'ephemeral', { x: 's32' }, { print: 'x=%d' });
  setEventEnabled(TOP_INSTANCE, ev.id, true);
  ev.emit({ x: -7 });
  setEventEnabled(TOP_INSTANCE, ev.id, false);
  ev.remove();
  const lines = drain().map((r) => body(traceLine(r)));
  assert.deepEqual(lines, ['ephemeral: x=-7\n']);
});

test("the engine's trace_options map onto the text options", () => {
  const opts = () => traceTextOptions((n) => getOption(TOP_INSTANCE, n), instanceClockInNs(TOP_INSTANCE));
  assert.deepEqual(opts(), DEFAULT_TRACE_TEXT_OPTIONS);
  for (const [name, key] of [
    ['irq-info', 'irqInfo'],
    ['context-info', 'contextInfo'],
    ['record-tgid', 'recordTgid'],
    ['raw', 'raw'],
    ['hex', 'hex'],
    ['fields', 'fields'],
    ['printk-msg-only', 'printkMsgOnly'],
    ['verbose', 'verbose'],
    ['annotate', 'annotate'],
  ] as const) {
    const was = DEFAULT_TRACE_TEXT_OPTIONS[key];
    assert.ok(setOption(TOP_INSTANCE, name, !was), name);
    assert.equal(opts()[key], !was, name);
    setOption(TOP_INSTANCE, name, was);
  }
  assert.deepEqual(opts(), DEFAULT_TRACE_TEXT_OPTIONS);
});
