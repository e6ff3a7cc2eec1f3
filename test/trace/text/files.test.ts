import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ErrorLogSink } from '../../../src/trace/languages/error-sink.js';
import { logFilterError } from '../../../src/trace/languages/filter/event-filter.js';
import { ERROR_LOG_MAX_ENTRIES, ErrorLog } from '../../../src/trace/text/error-log.js';
import { availableEventsText, savedCmdlinesText } from '../../../src/trace/text/lists.js';
import { snapshotHeader } from '../../../src/trace/text/snapshot-text.js';
import { statsText } from '../../../src/trace/text/stats.js';
import { clockInNs } from '../../../src/trace/text/timestamp.js';

test('stats: the kernel layout, time and counter clocks', () => {
  const s = {
    entries: 2,
    overrun: 0,
    commitOverrun: 0,
    bytes: 64,
    oldestTs: 347876373539n as bigint | undefined,
    nowTs: 347886266600n,
    dropped: 0,
    read: 0,
  };
  // Captured from /tmp/k/per_cpu/cpu0/stats after two trace_marker writes.
  assert.equal(
    statsText(s),
    'entries: 2\noverrun: 0\ncommit overrun: 0\nbytes: 64\noldest event ts:   347.876374\nnow ts:   347.886267\n' +
      'dropped events: 0\nread events: 0\n',
  );
  assert.equal(
    statsText({ ...s, oldestTs: undefined, nowTs: 0n, overrun: 5, read: 7 }),
    'entries: 2\noverrun: 5\ncommit overrun: 0\nbytes: 64\noldest event ts:     0.000000\nnow ts:     0.000000\n' +
      'dropped events: 0\nread events: 7\n',
  );
  assert.match(statsText({ ...s, oldestTs: 17n, nowTs: 99n }, false), /oldest event ts: 17\nnow ts: 99\n/);
  assert.equal(clockInNs('local'), true);
  assert.equal(clockInNs('mono_raw'), true);
  assert.equal(clockInNs('counter'), false);
  assert.equal(clockInNs('uptime'), false);
});

test('error_log: kernel layout and caret position', () => {
  let now = 365536981123n;
  const log = new ErrorLog(() => now);
  assert.equal(log.text(), '');
  log.add('event filter parse error', 'Field not found', 'prev_pid == 1 && foo == 1', 21);
  // Captured from /tmp/k/error_log after a bad sched_switch filter.
  assert.equal(
    log.text(),
    '[  365.536981] event filter parse error: error: Field not found\n' +
      '  Command: prev_pid == 1 && foo == 1\n' +
      '                                ^\n',
  );
  now = 5n;
  log.add('hist:sched:sched_switch', "Couldn't find field", 'keys=x', 0);
  assert.equal(log.size, 2);
  assert.ok(
    log
      .text()
      .endsWith(
        "[    0.000000] hist:sched:sched_switch: error: Couldn't find field\n  Command: keys=x\n           ^\n",
      ),
  );
  log.clear();
  assert.equal(log.text(), '');
});

test('error_log: is the sink the filter language logs into', () => {
  const log = new ErrorLog(() => 365536981123n);
  const sink: ErrorLogSink = log;
  logFilterError(sink, 'prev_pid == 1 && foo == 1', { message: 'Field not found', pos: 21 });
  assert.equal(
    log.text(),
    '[  365.536981] event filter parse error: error: Field not found\n' +
      '  Command: prev_pid == 1 && foo == 1\n' +
      '                                ^\n',
  );
});

test('error_log: keeps the newest 8 entries, oldest first; survives a throwing clock and odd positions', () => {
  assert.equal(ERROR_LOG_MAX_ENTRIES, 8);
  let t = 0n;
  const log = new ErrorLog(() => (t += 1_000_000_000n));
  for (let i = 0; i < 12; i++) log.add('loc', `err${i}`, `cmd${i}`, 0);
  assert.equal(log.size, 8);
  const entries = log.entries();
  assert.deepEqual(
    entries.map((e) => e.command),
    ['cmd4', 'cmd5', 'cmd6', 'cmd7', 'cmd8', 'cmd9', 'cmd10', 'cmd11'],
  );
  assert.match(log.text(), /^\[ {4}5\.000000\] loc: error: err4\n/);
  const bad = new ErrorLog(() => {
    throw new Error('no clock');
  });
  bad.add('l', 'm', 'c', -3);
  bad.add('x'.repeat(300), 'm', 'c', Number.NaN);
  const text = bad.text();
  assert.match(text, /^\[ {4}0\.000000\] l: error: m\n {2}Command: c\n {11}\^\n/);
  // The location is cut at 127 bytes like the kernel's 128-byte buffer.
  assert.ok(text.includes(`] ${'x'.repeat(127)}m\n`));
});

test('saved_cmdlines and available_events', () => {
  assert.equal(
    savedCmdlinesText([
      { pid: 5372, comm: 'true' },
      { pid: 5453, comm: 'bash' },
    ]),
    '5372 true\n5453 bash\n',
  );
  assert.equal(savedCmdlinesText([]), '');
  assert.equal(
    availableEventsText([
      { system: 'initcall', name: 'initcall_finish' },
      { system: 'http', name: 'request' },
    ]),
    'initcall:initcall_finish\nhttp:request\n',
  );
});

test('snapshot header: help text when empty (allocated or freed, main or per-CPU), trace header otherwise', () => {
  assert.equal(
    snapshotHeader({ entries: 0, written: 0, cpus: 2, allocated: false }),
    '# tracer: nop\n#\n#\n# * Snapshot is freed *\n#\n# Snapshot commands:\n' +
      '# echo 0 > snapshot : Clears and frees snapshot buffer\n' +
      '# echo 1 > snapshot : Allocates snapshot buffer, if not already allocated.\n' +
      '#                      Takes a snapshot of the main buffer.\n' +
      '# echo 2 > snapshot : Clears snapshot buffer (but does not allocate or free)\n' +
      "#                      (Doesn't have to be '2' works with any number that\n" +
      "#                       is not a '0' or '1')\n",
  );
  const perCpu = snapshotHeader({ entries: 0, written: 3, cpus: 2, allocated: true, perCpu: true });
  assert.match(
    perCpu,
    /^# tracer: nop\n#\n#\n# \* Snapshot is allocated \*\n#\n# Snapshot commands:\n# echo 0 > snapshot : Invalid for per_cpu snapshot file\.\n/,
  );
  assert.match(perCpu, /# echo 2 > snapshot : Clears this cpu's snapshot buffer \(but does not allocate\)\n/);
  assert.match(snapshotHeader({ entries: 1, written: 1, cpus: 2, allocated: true }), /entries-written: 1\/1 {3}#P:2\n/);
});
