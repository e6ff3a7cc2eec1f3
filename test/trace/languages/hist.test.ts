/**
 * Histograms: the kernel selftests trigger-hist, trigger-multihist, trigger-hist-mod and trigger-hist-syntax-errors
 * re-targeted to synthetic events (no filesystem), the exact `hist` file format, bounded tables, and a concurrent
 * reader while a worker thread writes into the shared table.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { CollectingErrorLog } from '../../../src/trace/languages/error-sink.js';
import { HistRegistry, type HistTrigger, readHistFile } from '../../../src/trace/languages/hist/hist-trigger.js';
import { TriggerSet } from '../../../src/trace/languages/trigger/trigger-set.js';
import type { EventDescriptor } from '../../../src/trace/record.js';
import { allTypes, exitEvent, forkEvent, kmallocEvent } from './events.js';
import { FakeInstance } from './trigger-host.js';

function setup(events: EventDescriptor[] = [forkEvent]) {
  const inst = new FakeInstance(events.map((e) => `${e.system}:${e.name}`));
  const reg = new HistRegistry(4);
  const log = new CollectingErrorLog();
  const sets = new Map(events.map((e) => [e, new TriggerSet(e, reg.factory)]));
  for (const [e, set] of sets) inst.sets.set(`${e.system}:${e.name}`, set);
  const set = sets.get(events[0])!;
  const w = (s: string, ev = events[0]) => sets.get(ev)!.write(s, inst, log);
  const hist = (ev = events[0]) => readHistFile(sets.get(ev)!.histTriggers());
  const emit = (v: Record<string, unknown>, ev = events[0], ctx = { pid: 4321, cpu: 0, comm: 'bash' }) =>
    inst.fire(sets.get(ev)!, v, ctx);
  return { inst, reg, log, set, sets, w, hist, emit };
}

function forks(emit: (v: Record<string, unknown>) => void) {
  for (let i = 0; i < 10; i++) emit({ parent_comm: 'bash', parent_pid: 4321, child_comm: 'bash', child_pid: 5000 + i });
}

test('trigger-hist: basic, compound keys, string key, sort key', () => {
  let s = setup();
  assert.equal(s.w('hist:keys=parent_pid:vals=child_pid'), 0);
  forks(s.emit);
  assert.match(s.hist(), /parent_pid/);
  assert.match(s.hist(), /child/);
  assert.equal(
    s.hist(),
    '# event histogram\n#\n# trigger info: hist:keys=parent_pid:vals=hitcount,child_pid:sort=hitcount:size=2048 [active]\n#\n\n' +
      '{ parent_pid:       4321 } hitcount:         10  child_pid:      50045\n' +
      '\nTotals:\n    Hits: 10\n    Entries: 1\n    Dropped: 0\n',
  );
  s = setup();
  s.w('hist:keys=parent_pid,child_pid');
  forks(s.emit);
  assert.match(s.hist(), /^\{ parent_pid:.*, child_pid:.*\}/m);
  s = setup();
  s.w('hist:keys=parent_comm');
  forks(s.emit);
  assert.match(s.hist(), /parent_comm: bash/);
  s = setup();
  s.w('hist:keys=parent_pid,child_pid:sort=child_pid.ascending');
  forks(s.emit);
  const pids = [...s.hist().matchAll(/child_pid:\s*(\d+)/g)].map((m) => Number(m[1]));
  assert.equal(pids.length, 10);
  assert.deepEqual(
    pids,
    [...pids].sort((a, b) => a - b),
  );
  assert.equal(s.set.read(), 'hist:keys=parent_pid,child_pid:vals=hitcount:sort=child_pid:size=2048 [active]\n');
});

test('trigger-multihist: several hists on one event; a named hist is shared across events', () => {
  let s = setup();
  assert.equal(s.w('hist:keys=parent_pid:vals=child_pid'), 0);
  assert.equal(s.w('hist:keys=parent_comm:vals=child_pid'), 0);
  forks(s.emit);
  const h = s.hist();
  assert.match(h, /parent_pid/);
  assert.match(h, /child/);
  assert.match(h, /parent_comm: bash/);
  assert.equal(h.split('# event histogram').length, 3);
  assert.match(h, /Dropped: 0\n\n\n# event histogram/);
  s = setup([forkEvent, exitEvent]);
  assert.equal(s.w('hist:name=test_hist:keys=common_pid', forkEvent), 0);
  forks(s.emit);
  assert.match(s.hist(forkEvent), /test_hist/);
  assert.equal(s.w('hist:name=test_hist:keys=common_pid', exitEvent), 0);
  s.emit({}, exitEvent);
  assert.match(s.hist(exitEvent), /test_hist/);
  assert.equal(s.hist(exitEvent), s.hist(forkEvent));
  assert.match(s.hist(forkEvent), /hitcount:\s+11/);
  assert.equal(s.w('hist:name=test_hist:keys=pid', exitEvent), 22, 'a different definition under the same name');
  assert.equal(
    s.log.entries.at(-1)?.message,
    "Named hist trigger doesn't match existing named trigger (includes variables)",
  );
});

test('trigger-hist-mod: .execname, .hex, .log2, .buckets', () => {
  let s = setup();
  s.w('hist:keys=common_pid.execname');
  forks(s.emit);
  assert.match(s.hist(), /common_pid: bash {12}\[ {6}4321\]/);
  s = setup();
  s.w('hist:keys=parent_pid.hex');
  forks(s.emit);
  assert.match(s.hist(), new RegExp(`parent_pid: ${(4321).toString(16)} `));
  s = setup([kmallocEvent]);
  s.w('hist:keys=bytes_req.log2');
  for (const b of [1, 2, 3, 100, 4096]) s.emit({ bytes_req: b });
  const h = s.hist();
  assert.match(h, /bytes_req: ~ 2\^[0-9]*/);
  assert.match(h, /\{ bytes_req: ~ 2\^7 {2}\} hitcount: {10}1/);
  assert.match(h, /\{ bytes_req: ~ 2\^12 \} hitcount: {10}1/);
  assert.match(h, /\{ bytes_req: ~ 2\^0 {2}\} hitcount: {10}1/);
  s = setup([kmallocEvent]);
  s.w('hist:keys=bytes_req.buckets=100:vals=bytes_alloc.hex');
  for (const b of [1, 99, 100, 250]) s.emit({ bytes_req: b, bytes_alloc: 255 });
  assert.match(s.hist(), /\{ bytes_req: ~ 0-99 \} hitcount: {10}2 {2}bytes_alloc: {8}1fe/);
  assert.match(
    s.set.read(),
    /^hist:keys=bytes_req\.buckets=100:vals=hitcount,bytes_alloc\.hex:sort=hitcount:size=2048 \[active\]$/m,
  );
});

test('negative keys and sums print as the kernel u64 values', () => {
  const s = setup();
  s.w('hist:keys=parent_pid:vals=child_pid');
  s.emit({ parent_pid: -1, child_pid: -2 });
  assert.match(s.hist(), /\{ parent_pid: 18446744073709551615 \} hitcount: {10}1 {2}child_pid: 18446744073709551614/);
});

test('trigger-hist-syntax-errors: error_log text and caret position (13 + pos rule)', () => {
  const cases = [
    ['hist:keys=common_pid:vals=bytes_req:sort=common_pid,^junk', 'Sort field must be a key or a val'],
    ['hist:keys=common_pid:vals=bytes_req:^sort=', 'Empty assignment'],
    ['hist:keys=common_pid:vals=bytes_req:^sort=common_pid,', 'Empty sort field'],
    ['hist:keys=common_pid:vals=bytes_req:sort=common_pid.^junk', 'Invalid sort modifier'],
    [
      'hist:keys=common_pid:vals=bytes_req,bytes_alloc:^sort=common_pid,bytes_req,bytes_alloc',
      'Too many sort fields (Max = 2)',
    ],
    ['hist:keys=^nope', "Couldn't find field"],
    ['hist:keys=bytes_req.^bogus', 'Invalid field modifier'],
  ];
  for (const [withCaret, message] of cases) {
    const s = setup([kmallocEvent]);
    const pos = withCaret.indexOf('^');
    const command = withCaret.replace('^', '');
    assert.equal(s.w(command), 22, command);
    assert.equal(s.log.entries.length, 1, command);
    const e = s.log.entries[0];
    assert.equal(e.location, 'hist:kmem:kmalloc');
    assert.equal(e.message, message);
    assert.equal(e.command, command);
    // ftrace_errlog_check: the caret line ("  Command: " + spaces + "^\n") is 13 + pos characters long.
    assert.equal(' '.repeat(11 + e.pos).length + 2, 13 + pos, command);
  }
});

test('pause, cont, clear, EEXIST, ENOENT and removal', () => {
  const s = setup();
  assert.equal(s.w('hist:keys=parent_pid'), 0);
  assert.equal(s.w('hist:keys=parent_pid'), 17);
  assert.deepEqual(s.log.entries.at(-1), {
    location: 'hist:sched:sched_process_fork',
    message: 'Hist trigger already exists',
    command: 'hist:keys=parent_pid',
    pos: 0,
  });
  forks(s.emit);
  assert.equal(s.w('hist:keys=parent_pid:pause'), 0);
  assert.match(s.set.read(), /\[paused\]/);
  forks(s.emit);
  assert.match(s.hist(), /hitcount:\s+10\n/);
  assert.equal(s.w('hist:keys=parent_pid:cont'), 0);
  forks(s.emit);
  assert.match(s.hist(), /hitcount:\s+20\n/);
  assert.equal(s.w('hist:keys=parent_pid:clear'), 0);
  assert.match(s.hist(), /Entries: 0/);
  forks(s.emit);
  assert.match(s.hist(), /hitcount:\s+10\n[\s\S]*Hits: 10\n/);
  assert.equal(s.w('hist:keys=child_pid:clear'), 2);
  assert.equal(s.log.entries.at(-1)?.message, "Can't clear or continue a nonexistent hist trigger");
  assert.equal(s.w('hist:keys=child_pid:pause'), 0, 'pause creates a paused trigger');
  assert.match(s.set.read(), /^hist:keys=child_pid:vals=hitcount:sort=hitcount:size=2048 \[paused\]$/m);
  assert.equal(s.w('!hist:keys=child_pid'), 0);
  assert.equal(s.w('!hist:keys=parent_pid'), 0);
  assert.equal(s.w('!hist:keys=parent_pid'), 0, 'removing nothing succeeds');
  assert.equal(s.hist(), '');
  assert.equal(s.w('hist'), 22);
  assert.equal(s.w('hist:vals=child_pid'), 22, 'keys are required');
  assert.equal(s.w('hist:keys=a,b,c,d'), 22);
  assert.equal(s.w('hist:keys=parent_pid:size=64'), 22);
  assert.equal(s.w('hist:keys=parent_pid:size=abc'), 22);
  assert.equal(s.w('hist:keys=parent_pid:bogus'), 22);
  assert.equal(s.w('hist:keys=parent_pid if nope == 1'), 22);
  assert.equal(s.w('hist:keys=parent_pid:size=200 if child_pid > 5002'), 0);
  assert.match(
    s.set.read(),
    /^hist:keys=parent_pid:vals=hitcount:sort=hitcount:size=256 if child_pid > 5002 \[active\]$/m,
  );
  forks(s.emit);
  assert.match(s.hist(), /hitcount:\s+7\n/);
  s.set.truncate(s.inst);
  assert.equal(s.set.size, 0, 'O_TRUNC removes hist triggers');
});

test('a full table drops and counts; memory stays bounded', () => {
  const s = setup();
  s.w('hist:keys=child_pid:size=128');
  for (let i = 0; i < 300; i++) s.emit({ child_pid: i });
  const h = s.hist();
  assert.match(h, /Hits: 128\n {4}Entries: 128\n {4}Dropped: 172\n/);
});

test('the filesystem side reads a table while a worker thread writes it', async () => {
  const s = setup();
  s.w('hist:keys=parent_pid:vals=child_pid');
  const t = s.set.histTriggers()[0] as HistTrigger;
  const n = 200_000;
  const worker = new Worker(new URL('./hist-writer.worker.js', import.meta.url), {
    workerData: { data: t.spec, cpu: 2, n },
  });
  const done = new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  let finished = false;
  done.then(() => {
    finished = true;
  });
  let last = 0;
  let reads = 0;
  while (!finished) {
    const snap = t.table.snapshot();
    let total = 0;
    for (const e of snap.entries) total += e.sums[0];
    assert.ok(total >= last, 'hit counts never go backwards');
    assert.ok(snap.entries.length <= 50);
    last = total;
    reads++;
    await new Promise((r) => setImmediate(r));
  }
  await done;
  await worker.terminate();
  assert.ok(reads > 0);
  const h = s.hist();
  assert.match(h, /Hits: 200000\n {4}Entries: 50\n {4}Dropped: 0\n/);
  assert.match(h, /\{ parent_pid: {10}0 \} hitcount: {7}4000 {2}child_pid: {7}4000/);
});

test('big tables get fewer writer regions instead of failing; memory is committed lazily', () => {
  const inst = new FakeInstance(['test:all_types']);
  const set = new TriggerSet(allTypes, new HistRegistry().factory);
  const rss0 = process.memoryUsage().rss;
  assert.equal(set.write('hist:keys=url:size=131072', inst, new CollectingErrorLog()), 0);
  const t = set.histTriggers()[0] as HistTrigger;
  assert.ok(t.table.sab.byteLength <= 512 * 1024 * 1024);
  assert.ok(t.table.shape.regions >= 1 && t.table.shape.regions < 64, `regions ${t.table.shape.regions}`);
  inst.fire(set, { url: '/a' }, { pid: 1, cpu: 0, comm: 'x' });
  assert.match(readHistFile(set.histTriggers()), /\{ url: \/a {49}\} hitcount: {10}1\n/);
  assert.ok(process.memoryUsage().rss - rss0 < 128 * 1024 * 1024, 'untouched regions are not resident');
  set.clear(inst);
});

test("enable_hist/disable_hist pause and resume the target event's hist triggers", () => {
  const s = setup([forkEvent, exitEvent]);
  const fork = s.sets.get(forkEvent)!;
  const exit = s.sets.get(exitEvent)!;
  assert.equal(s.w('hist:keys=pid', exitEvent), 0);
  assert.equal(s.w('disable_hist:sched:sched_process_exit:1', forkEvent), 0);
  assert.equal(s.w('enable_hist:sched:sched_process_exit', forkEvent), 17, 'one enable/disable_hist per target');
  assert.equal(s.w('enable_event:sched:sched_process_exit', forkEvent), 0, 'a different type than the hist ones');
  assert.equal(s.w('enable_hist:sched:nope', forkEvent), 22);
  assert.equal(
    fork.read(),
    'enable_event:sched:sched_process_exit:unlimited\ndisable_hist:sched:sched_process_exit:count=1\n',
  );
  s.emit({ child_pid: 1 }, forkEvent);
  assert.match(exit.read(), /\[paused\]/);
  assert.equal(fork.read().split('\n')[1], 'disable_hist:sched:sched_process_exit:count=0');
  s.emit({ pid: 3 }, exitEvent);
  assert.match(s.hist(exitEvent), /Entries: 0/);
  assert.equal(s.w('!enable_hist:sched:sched_process_exit', forkEvent), 0, 'removes the disable_hist: same type');
  assert.equal(s.w('enable_hist:sched:sched_process_exit if child_pid == 7', forkEvent), 0);
  s.emit({ child_pid: 1 }, forkEvent);
  assert.match(exit.read(), /\[paused\]/);
  s.emit({ child_pid: 7 }, forkEvent);
  assert.match(exit.read(), /\[active\]/);
  s.emit({ pid: 3 }, exitEvent);
  assert.match(s.hist(exitEvent), /Entries: 1/);
});
