import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_TRACE_TEXT_OPTIONS,
  eventText,
  latencyFlags,
  type TraceTextOptions,
  traceHeader,
  traceLine,
  traceTextOptions,
} from '../../../src/trace/text/trace-line.js';
import { encodeRecord, fixture, makeEvent, makeRecord, SCHED_SWITCH_FIELDS } from './support.js';

const opts = (o: Partial<TraceTextOptions>): TraceTextOptions => ({ ...DEFAULT_TRACE_TEXT_OPTIONS, ...o });

// Events and records reproducing lines captured from the real kernel (6.18) in /tmp/k/trace.
const exec = makeEvent(
  365,
  'sched',
  'sched_process_exec',
  { filename: 'string', pid: 's32', old_pid: 's32' },
  'filename=%s pid=%d old_pid=%d',
);
const execRec = makeRecord(
  exec,
  encodeRecord(exec, { filename: '/bin/true', pid: 5455, old_pid: 5455 }, { pid: 5455 }),
  {
    cpu: 1,
    ts: 347877075582n,
    comm: 'true',
    pid: 5455,
  },
);
const marker = makeEvent(5, 'ftrace', 'print', { ip: 'u64', buf: 'string' });
const markerRec = makeRecord(
  marker,
  encodeRecord(marker, { ip: 0xffffffff8149ab1an, buf: 'hello-marker\n' }, { preemptCount: 1, pid: 5453 }),
  { cpu: 0, ts: 347876373539n, comm: 'bash', pid: 5453 },
);

test('trace header: nop tracer, entry counts, legend — as the kernel prints it for each option set', () => {
  const info = { entries: 0, written: 0, cpus: 2 };
  assert.equal(traceHeader(info), fixture('trace-header-default.txt'));
  assert.equal(traceHeader(info, opts({ irqInfo: false })), fixture('trace-header-noirq.txt'));
  assert.equal(traceHeader(info, opts({ recordTgid: true })), fixture('trace-header-tgid.txt'));
  assert.equal(traceHeader(info, opts({ irqInfo: false, recordTgid: true })), fixture('trace-header-noirq-tgid.txt'));
  assert.equal(traceHeader(info, opts({ contextInfo: false })), '# tracer: nop\n#\n');
  assert.equal(traceHeader(info, opts({ verbose: true })), '# tracer: nop\n#\n');
  assert.match(
    traceHeader({ entries: 3, written: 10, cpus: 4 }),
    /^# tracer: nop\n#\n# entries-in-buffer\/entries-written: 3\/10 {3}#P:4\n#\n/,
  );
});

test('trace lines: byte-identical to the kernel captures', () => {
  assert.equal(
    traceLine(execRec),
    '            true-5455    [001] .....   347.877076: sched_process_exec: filename=/bin/true pid=5455 old_pid=5455\n',
  );
  assert.equal(
    traceLine(markerRec),
    '            bash-5453    [000] ...1.   347.876374: tracing_mark_write: hello-marker\n',
  );
  // irq-info off.
  assert.equal(
    traceLine(markerRec, opts({ irqInfo: false })),
    '            bash-5453    [000]    347.876374: tracing_mark_write: hello-marker\n',
  );
  // context-info off.
  assert.equal(
    traceLine(execRec, opts({ contextInfo: false })),
    'sched_process_exec: filename=/bin/true pid=5455 old_pid=5455\n',
  );
  // raw.
  assert.equal(traceLine(markerRec, opts({ raw: true })), '5453 0 347876373539 # ffffffff8149ab1a hello-marker\n');
  assert.equal(traceLine(execRec, opts({ raw: true })), '5455 1 347877075582 type: 365\n');
  // hex.
  assert.equal(traceLine(execRec, opts({ hex: true })), '0000154f 00000001 00000050ff16ea7e type: 365\n\n');
  assert.equal(traceLine(markerRec, opts({ hex: true })), '0000154d 00000000 00000050ff0c3423 type: 5\n\n');
  // printk-msg-only: the marker's text alone.
  assert.equal(traceLine(markerRec, opts({ printkMsgOnly: true })), 'hello-marker\n');
});

test('trace lines: the fields option prints as the kernel generic printer', () => {
  const sw = makeEvent(372, 'sched', 'sched_switch', SCHED_SWITCH_FIELDS);
  const rec = makeRecord(
    sw,
    encodeRecord(
      sw,
      {
        prev_comm: 'bash',
        prev_pid: 5792,
        prev_prio: 120,
        prev_state: 1,
        next_comm: 'bash',
        next_pid: 5794,
        next_prio: 120,
      },
      { flags: 0x01, preemptCount: 2 },
    ),
    { cpu: 1, ts: 410095236000n, comm: 'bash', pid: 5792 },
  );
  assert.equal(
    traceLine(rec, opts({ fields: true })),
    '            bash-5792    [001] d..2.   410.095236: sched_switch: prev_comm=bash prev_pid=0x16a0 (5792) ' +
      'prev_prio=0x78 (120) prev_state=0x1 (1) next_comm=bash next_pid=0x16a2 (5794) next_prio=0x78 (120)\n',
  );
  const small = makeEvent(3, 's', 'small', { c: 'u8', n: 'u8', h: 'u16', w: 's32', arr: 'u8[16]', s: 'string' });
  const r = makeRecord(small, encodeRecord(small, { c: 65, n: 7, h: 65535, w: -1, arr: [], s: 'x' }));
  assert.equal(
    traceLine(r, opts({ fields: true, contextInfo: false })),
    "small: c='A'(65) n=(7) h=0xffff (65535) w=0xffffffff (-1) arr=<INVALID-SIZE> s=x\n",
  );
});

test('trace lines: tgid column, comm width and truncation, cpu and pid columns', () => {
  const e = makeEvent(20, 'app', 'tick', { n: 'u32' });
  const data = encodeRecord(e, { n: 1 });
  const line = (comm: string, pid: number, cpu: number, o: Partial<TraceTextOptions> = {}) =>
    traceLine(makeRecord(e, data, { comm, pid, cpu, ts: 1_500_000n }), opts(o));
  assert.equal(line('node', 42, 3), '            node-42      [003] .....     0.001500: tick: n=1\n');
  assert.equal(
    line('node', 42, 3, { recordTgid: true }),
    '            node-42      (     42) [003] .....     0.001500: tick: n=1\n',
  );
  // A name longer than the kernel's 15-byte task names is cut like one.
  assert.equal(
    line('a-very-long-worker-name', 1234567, 12),
    ' a-very-long-wor-1234567 [012] .....     0.001500: tick: n=1\n',
  );
  assert.equal(line('', 7, 0), '           <...>-7       [000] .....     0.001500: tick: n=1\n');
  assert.equal(line('wörker', 7, 1000), '         wörker-7       [1000] .....     0.001500: tick: n=1\n');
});

test('trace lines: timestamps round to the microsecond; counter clocks print raw', () => {
  const e = makeEvent(20, 'app', 'tick', {});
  const data = encodeRecord(e, {});
  const at = (ts: bigint, o: Partial<TraceTextOptions> = {}) =>
    traceLine(makeRecord(e, data, { ts, comm: 'x', pid: 1 }), opts({ irqInfo: false, ...o }));
  assert.equal(at(999n), '               x-1       [000]      0.000001: tick: \n');
  assert.equal(at(499n), '               x-1       [000]      0.000000: tick: \n');
  assert.equal(at(123456789999999499n), '               x-1       [000]  123456789.999999: tick: \n');
  assert.equal(at(123456789999999500n), '               x-1       [000]  123456790.000000: tick: \n');
  assert.equal(at(42n, { clockInNs: false }), '               x-1       [000]            42: tick: \n');
});

test('trace lines: unknown events, lost events, marker without newline, raw marker', () => {
  const unknown = makeRecord(undefined, new Uint8Array(8), { id: 77, comm: 'node', pid: 9, ts: 2_000_000_000n });
  assert.equal(traceLine(unknown), '            node-9       [000] .....     2.000000: Unknown type 77\n');
  assert.equal(traceLine(unknown, opts({ raw: true })), '9 0 2000000000 77 ?\n');
  assert.equal(traceLine(unknown, opts({ hex: true })), '00000009 00000000 0000000077359400 \n');
  assert.equal(
    traceLine(unknown, DEFAULT_TRACE_TEXT_OPTIONS, 5),
    'CPU:0 [LOST 5 EVENTS]\n            node-9       [000] .....     2.000000: Unknown type 77\n',
  );
  const m = makeRecord(marker, encodeRecord(marker, { buf: 'nonl' }), { comm: 'sh', pid: 3 });
  assert.equal(traceLine(m), '              sh-3       [000] .....     0.000000: tracing_mark_write: nonl\n');
  assert.equal(eventText(m), 'tracing_mark_write: nonl');
  assert.equal(eventText(execRec), 'sched_process_exec: filename=/bin/true pid=5455 old_pid=5455');
  const raw = makeEvent(6, 'ftrace', 'raw_data', { id: 'u32', buf: 'string' });
  const rr = makeRecord(raw, encodeRecord(raw, { id: 0xabc, buf: 'AB' }), { comm: 'sh', pid: 3 });
  // The test encoder NUL-terminates every string; the engine stores raw_data bytes unterminated, printed as they are.
  assert.equal(traceLine(rr), '              sh-3       [000] .....     0.000000: # abc buf: 41 42 00\n');
});

test('stack records: `<stack trace>` and ` => ` lines; size bounds the frames, a bad size prints none', () => {
  const stack = makeEvent(4, 'ftrace', 'kernel_stack', { size: 's32', caller: 'string' });
  const line = (size: number, caller: string) =>
    traceLine(
      makeRecord(stack, encodeRecord(stack, { size, caller }), { comm: 'node', pid: 1234, ts: 4508658347000n }),
    );
  const ctx = '            node-1234    [000] .....  4508.658347: ';
  assert.equal(line(2, 'frame one\nframe two'), `${ctx}<stack trace>\n => frame one\n => frame two\n`);
  assert.equal(line(1, 'frame one\nframe two'), `${ctx}<stack trace>\n => frame one\n`);
  assert.equal(line(9, 'only'), `${ctx}<stack trace>\n => only\n`);
  assert.equal(line(-1, 'x'), `${ctx}<stack trace>\n`);
  assert.equal(line(0, ''), `${ctx}<stack trace>\n`);
  const rec = makeRecord(stack, encodeRecord(stack, { size: 2, caller: 'a\nb' }));
  assert.equal(eventText(rec), '<stack trace>\n => a\n => b');
  // A truncated record prints what is there and never throws.
  assert.equal(
    traceLine(makeRecord(stack, new Uint8Array(10), { comm: 'x', pid: 1 })),
    '               x-1       [000] .....     0.000000: <stack trace>\n',
  );
});

test('latency flags: the kernel letters', () => {
  assert.equal(latencyFlags(0, 0), '.....');
  assert.equal(latencyFlags(0x01, 0), 'd....');
  assert.equal(latencyFlags(0x81, 0), 'D....');
  assert.equal(latencyFlags(0x80, 0), 'b....');
  assert.equal(latencyFlags(0x04 | 0x20, 0), '.N...');
  assert.equal(latencyFlags(0x04, 0), '.n...');
  assert.equal(latencyFlags(0x20, 0), '.p...');
  assert.equal(latencyFlags(0x08, 0), '..h..');
  assert.equal(latencyFlags(0x10, 0), '..s..');
  assert.equal(latencyFlags(0x18, 0), '..H..');
  assert.equal(latencyFlags(0x40, 0), '..z..');
  assert.equal(latencyFlags(0x48, 0), '..Z..');
  assert.equal(latencyFlags(0, 0x21), '...12');
  assert.equal(latencyFlags(0, 0xff), '...ff');
});

test('trace lines: a broken record never throws', () => {
  const e = makeEvent(30, 's', 'e', { a: 'u64', s: 'string' });
  assert.equal(
    traceLine(makeRecord(e, new Uint8Array(0), { comm: 'x', pid: 1 })),
    '               x-1       [000] .....     0.000000: e: a=0 s=\n',
  );
});

test('options from trace_options names', () => {
  assert.deepEqual(
    traceTextOptions(() => undefined),
    DEFAULT_TRACE_TEXT_OPTIONS,
  );
  const on = new Set(['raw', 'record-tgid']);
  const off = new Set(['irq-info', 'annotate']);
  const o = traceTextOptions((n) => (on.has(n) ? true : off.has(n) ? false : undefined), false);
  assert.deepEqual(o, {
    ...DEFAULT_TRACE_TEXT_OPTIONS,
    raw: true,
    recordTgid: true,
    irqInfo: false,
    annotate: false,
    clockInNs: false,
  });
});
