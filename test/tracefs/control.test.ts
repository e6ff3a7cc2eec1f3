/**
 * The control files through a real mount, applied by the application's threads: the kernel selftests
 * (trigger-traceonoff, trigger-eventonoff, trigger-filter, trigger-hist, trigger-snapshot, tracing-error-log)
 * re-targeted to ntrace events emitted by this process's main thread.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defineEvent } from '../../src/index.js';
import { findInstance, isTracingOn, TOP_INSTANCE } from '../../src/trace/engine.js';
import { assertMatch, mountTracefs, ok, py, sh, uniqueSystem } from './helpers.js';

function events() {
  const sys = uniqueSystem('ctl');
  const fork = defineEvent(sys, 'fork', { parent_pid: 's32', child_pid: 's32', comm: 'char[16]' });
  const req = defineEvent(sys, 'request', { url: 'string', status: 'u16', bytes: 'u32' });
  return { sys, fork, req };
}

test('filter: `status >= 500` filters what the application records', async (t) => {
  const { sys, req } = events();
  const m = await mountTracefs(t);
  const e = `${m.mountpoint}/events/${sys}/request`;
  ok(`echo 'status >= 500' > ${e}/filter; echo 1 > ${e}/enable`);
  t.after(() => sh(`echo 0 > ${e}/enable; echo 0 > ${e}/filter`));
  assert.equal(ok(`cat ${e}/filter`), 'status >= 500\n');
  for (const status of [200, 503, 404, 500]) req.emit({ url: '/x', status, bytes: 1 });
  const trace = ok(`cat ${m.mountpoint}/trace`);
  assert.deepEqual(
    [...trace.matchAll(/status=(\d+)/g)].map((x) => x[1]),
    ['503', '500'],
  );
  ok(`echo 0 > ${e}/filter`);
  req.emit({ url: '/y', status: 201, bytes: 1 });
  assertMatch(ok(`cat ${m.mountpoint}/trace`), /status=201/);
  // A system filter too.
  ok(`echo 'bytes == 7' > ${m.mountpoint}/events/${sys}/filter; echo > ${m.mountpoint}/trace`);
  req.emit({ url: '/z', status: 1, bytes: 6 });
  req.emit({ url: '/z', status: 2, bytes: 7 });
  assert.deepEqual(
    [...ok(`cat ${m.mountpoint}/trace`).matchAll(/status=(\d+)/g)].map((x) => x[1]),
    ['2'],
  );
});

test('trigger-traceonoff: traceoff and traceon fire from the application thread', async (t) => {
  const { sys, fork } = events();
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  const trig = `${d}/events/${sys}/fork/trigger`;
  t.after(() => sh(`echo '!traceoff' > ${trig}; echo '!traceon' > ${trig}; echo 1 > ${d}/tracing_on`));
  ok(`echo traceoff > ${trig}`);
  assert.equal(ok(`cat ${trig}`), 'traceoff:unlimited\n');
  assert.equal(ok(`cat ${d}/events/${sys}/fork/enable`), '0*\n');
  fork.emit({ parent_pid: 1, child_pid: 2, comm: 'sh' });
  assert.equal(ok(`cat ${d}/tracing_on`), '0\n');
  ok(`echo '!traceoff' > ${trig}; echo traceon > ${trig}; echo 0 > ${d}/tracing_on`);
  fork.emit({ parent_pid: 1, child_pid: 2, comm: 'sh' });
  assert.equal(ok(`cat ${d}/tracing_on`), '1\n');
  assert.equal(isTracingOn(TOP_INSTANCE), true);
});

test('trigger-eventonoff: enable_event / disable_event switch another event (0*, 1*)', async (t) => {
  const { sys, fork, req } = events();
  const m = await mountTracefs(t);
  const d = `${m.mountpoint}/events/${sys}`;
  t.after(() =>
    sh(
      `echo '!enable_event:${sys}:request' > ${d}/fork/trigger; echo '!disable_event:${sys}:request' > ${d}/fork/trigger; echo 0 > ${d}/request/enable`,
    ),
  );
  ok(`echo 'enable_event:${sys}:request' > ${d}/fork/trigger`);
  assert.equal(ok(`cat ${d}/request/enable`), '0*\n');
  req.emit({ url: '/before', status: 1, bytes: 1 });
  fork.emit({ parent_pid: 1, child_pid: 2, comm: 'sh' });
  assert.equal(ok(`cat ${d}/request/enable`), '1*\n');
  req.emit({ url: '/after', status: 1, bytes: 1 });
  const trace = ok(`cat ${m.mountpoint}/trace`);
  assert.doesNotMatch(trace, /url=\/before/);
  assertMatch(trace, /url=\/after/);
  ok(`echo '!enable_event:${sys}:request' > ${d}/fork/trigger`);
  assert.equal(ok(`cat ${d}/request/enable`), '1\n');
  ok(`echo 'disable_event:${sys}:request' > ${d}/fork/trigger`);
  assert.equal(ok(`cat ${d}/request/enable`), '1*\n');
  fork.emit({ parent_pid: 1, child_pid: 2, comm: 'sh' });
  assert.equal(ok(`cat ${d}/request/enable`), '0*\n');
  ok(`echo '!disable_event:${sys}:request' > ${d}/fork/trigger`);
  assert.equal(ok(`cat ${d}/request/enable`), '0\n');
});

test("trigger-stacktrace: the emitting thread's stack lands in the trace", async (t) => {
  const { sys, fork } = events();
  const m = await mountTracefs(t);
  const trig = `${m.mountpoint}/events/${sys}/fork/trigger`;
  t.after(() => sh(`echo '!stacktrace' > ${trig}`));
  ok(`echo 'stacktrace:1' > ${trig}`);
  function applicationFrame() {
    fork.emit({ parent_pid: 1, child_pid: 2, comm: 'sh' });
  }
  applicationFrame();
  applicationFrame();
  const trace = ok(`cat ${m.mountpoint}/trace`);
  assert.equal(trace.split('<stack trace>').length, 2, 'count 1: one stack');
  // The kernel's form: `<stack trace>` after the context, as its own event (ftrace:kernel_stack), then ` => ` lines.
  assertMatch(trace, /\n +\S+-\d+ +\[\d{3}\] \.{5} +\d+\.\d{6}: <stack trace>\n => applicationFrame \(/);
  assert.doesNotMatch(trace, /tracing_mark_write/);
  assert.equal(ok(`cat ${trig}`), 'stacktrace:count=0\n');
  // Like the kernel's ftrace events, kernel_stack is listed nowhere and cannot be switched on.
  assert.equal(ok(`ls ${m.mountpoint}/events/ftrace/kernel_stack`), 'format\nid\n');
  assert.equal(ok(`cat ${m.mountpoint}/events/ftrace/kernel_stack/id`), '4\n');
  assert.doesNotMatch(ok(`cat ${m.mountpoint}/available_events`), /kernel_stack/);
});

test('trigger-filter: a trigger with `if` fires only when its filter matches', async (t) => {
  const { sys, fork } = events();
  const m = await mountTracefs(t);
  const trig = `${m.mountpoint}/events/${sys}/fork/trigger`;
  t.after(() => sh(`echo '!traceoff' > ${trig}; echo 1 > ${m.mountpoint}/tracing_on`));
  ok(`echo 'traceoff if child_pid == 0' > ${trig}`);
  assert.equal(ok(`cat ${trig}`), 'traceoff:unlimited if child_pid == 0\n');
  fork.emit({ parent_pid: 1, child_pid: 5, comm: 'sh' });
  assert.equal(ok(`cat ${m.mountpoint}/tracing_on`), '1\n');
  fork.emit({ parent_pid: 1, child_pid: 0, comm: 'sh' });
  assert.equal(ok(`cat ${m.mountpoint}/tracing_on`), '0\n');
});

test('trigger-hist: hist counts show in `hist`, also while the application thread spins', async (t) => {
  const { sys, req, fork } = events();
  const m = await mountTracefs(t);
  const d = `${m.mountpoint}/events/${sys}`;
  t.after(() => sh(`echo > ${d}/request/trigger; echo > ${d}/fork/trigger`));
  ok(`echo 'hist:keys=status:vals=bytes:sort=status' > ${d}/request/trigger`);
  ok(`echo 'hist:keys=parent_pid:vals=child_pid' > ${d}/fork/trigger`);
  for (let i = 0; i < 30; i++) req.emit({ url: '/', status: i % 3 === 0 ? 500 : 200, bytes: 2 });
  fork.emit({ parent_pid: 7, child_pid: 70, comm: 'sh' });
  const hist = ok(`cat ${d}/request/hist`);
  assertMatch(
    hist,
    /^# event histogram\n#\n# trigger info: hist:keys=status:vals=hitcount,bytes:sort=status:size=2048 \[active\]\n/,
  );
  assertMatch(hist, /\{ status:\s+200 \} hitcount:\s+20 {2}bytes:\s+40\n/);
  assertMatch(hist, /\{ status:\s+500 \} hitcount:\s+10 {2}bytes:\s+20\n/);
  assertMatch(hist, /Totals:\n {4}Hits: 30\n {4}Entries: 2\n {4}Dropped: 0\n/);
  assertMatch(ok(`cat ${d}/fork/hist`), /\{ parent_pid:\s+7 \} hitcount:\s+1 {2}child_pid:\s+70\n/);
  // multihist: a second hist trigger on the same event (appended: `>` truncates, which removes hist triggers);
  // hist-mod: .hex and .log2
  ok(`echo 'hist:keys=status.hex' >> ${d}/request/trigger`);
  req.emit({ url: '/', status: 255, bytes: 0 });
  const two = ok(`cat ${d}/request/hist`);
  assertMatch(two, /\{ status: ff \} hitcount:\s+1\n/);
  assertMatch(two, /\{ status:\s+255 \} hitcount:\s+1 {2}bytes:\s+0\n/);
  ok(`echo 'hist:keys=bytes.log2' > ${d}/request/trigger`);
  req.emit({ url: '/', status: 1, bytes: 1000 });
  assertMatch(ok(`cat ${d}/request/hist`), /\{ bytes: ~ 2\^10\s*\} hitcount:\s+1\n/);
  // O_TRUNC removes hist triggers (an empty write is EINVAL, as in the kernel).
  assert.deepEqual(py(`t(lambda: os.close(os.open('${d}/request/trigger', os.O_WRONLY | os.O_TRUNC)))`), ['OK']);
  assert.deepEqual(py(`t(lambda: w('${d}/request/trigger', b'\\n'))`), ['EINVAL']);
  assert.equal(ok(`cat ${d}/request/hist`), '');
  assertMatch(ok(`cat ${d}/request/trigger`), /^# Available triggers:/);

  // The main thread spins (emitting, never yielding) while a shell reads `hist` through the mount.
  ok(`echo 'hist:keys=status' > ${d}/request/trigger`);
  const tmp = mkdtempSync(join(tmpdir(), 'ntrace-hist-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const out = join(tmp, 'hist');
  const { spawn } = await import('node:child_process');
  const child = spawn(
    'sh',
    [
      '-c',
      `sleep 0.2; until grep -q 'status:        404' ${d}/request/hist; do :; done; cat ${d}/request/hist > ${out}.tmp; mv ${out}.tmp ${out}`,
    ],
    { stdio: 'ignore' },
  );
  t.after(() => child.kill('SIGKILL'));
  const deadline = Date.now() + 20_000;
  let spun = 0;
  while (!existsSync(out) && Date.now() < deadline) {
    for (let i = 0; i < 1000; i++) req.emit({ url: '/', status: 404, bytes: 0 });
    spun += 1000;
  }
  assert.ok(existsSync(out), 'hist was read while the main thread spun');
  const during = readFileSync(out, 'utf8');
  const n = Number(/\{ status:\s+404 \} hitcount:\s+(\d+)/.exec(during)?.[1]);
  assert.ok(n > 0 && n <= spun, `${n} of ${spun}`);
});

test('trigger-snapshot: echo 1 > snapshot; cat snapshot; the snapshot trigger', async (t) => {
  const { sys, fork, req } = events();
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  const e = `${d}/events/${sys}`;
  t.after(() => sh(`echo '!snapshot' > ${e}/fork/trigger; echo 0 > ${d}/snapshot; echo 0 > ${e}/request/enable`));
  assertMatch(ok(`cat ${d}/snapshot`), /# \* Snapshot is freed \*/);
  ok(`echo 1 > ${e}/request/enable`);
  req.emit({ url: '/one', status: 1, bytes: 1 });
  ok(`echo 1 > ${d}/snapshot`);
  const snap = ok(`cat ${d}/snapshot`);
  assertMatch(snap, /url=\/one/);
  assert.doesNotMatch(ok(`cat ${d}/trace`), /url=\/one/);
  ok(`echo 2 > ${d}/snapshot`);
  assertMatch(ok(`cat ${d}/snapshot`), /# \* Snapshot is allocated \*/);
  ok(`echo 'snapshot:1' > ${e}/fork/trigger`);
  req.emit({ url: '/two', status: 1, bytes: 1 });
  fork.emit({ parent_pid: 1, child_pid: 2, comm: 'sh' });
  req.emit({ url: '/three', status: 1, bytes: 1 });
  assertMatch(ok(`cat ${d}/snapshot`), /url=\/two/);
  assert.doesNotMatch(ok(`cat ${d}/snapshot`), /url=\/three/);
  assertMatch(ok(`cat ${d}/trace`), /url=\/three/);
  assert.equal(ok(`cat ${e}/fork/trigger`), 'snapshot:count=0\n');
  ok(`echo 0 > ${d}/snapshot`);
  assertMatch(ok(`cat ${d}/snapshot`), /# \* Snapshot is freed \*/);
  assert.deepEqual(py(`t(lambda: w('${d}/snapshot', b'x'))`), ['EINVAL']);
  // Instances have their own.
  ok(`mkdir ${d}/instances/snap`);
  t.after(() => sh(`rmdir ${d}/instances/snap`));
  const i = findInstance('snap');
  assert.ok(i !== undefined);
  assertMatch(ok(`cat ${d}/instances/snap/snapshot`), /# \* Snapshot is freed \*/);
});

test('tracing-error-log: filter and hist errors land in error_log with the caret at 13 + pos', async (t) => {
  const { sys } = events();
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  const e = `${d}/events/${sys}/request`;
  ok(`echo > ${d}/error_log`);
  t.after(() => sh(`echo 0 > ${e}/filter; echo > ${d}/error_log`));
  assert.notEqual(sh(`echo 'status >= 500 && nosuch == 1' > ${e}/filter`).code, 0);
  const log = ok(`cat ${d}/error_log`);
  assertMatch(log, /^\[\s*\d+\.\d+\] event filter parse error: error: Field not found\n/);
  assertMatch(log, /\n {2}Command: status >= 500 && nosuch == 1\n/);
  // The kernel puts the caret after the unknown field (pos 24, the operator): the line is 11 + pos spaces and `^`,
  // what ftrace_errlog_check measures.
  assert.equal(log.trimEnd().split('\n').pop(), `${' '.repeat(11 + 24)}^`);
  assertMatch(ok(`cat ${e}/filter`), /^status >= 500 && nosuch == 1\n {24}\^\nparse_error: Field not found\n/);
  assert.notEqual(sh(`echo 'hist:keys=nosuch' > ${e}/trigger`).code, 0);
  assertMatch(
    ok(`cat ${d}/error_log`),
    new RegExp(`hist:${sys}:request: error: Couldn't find field\\n {2}Command: hist:keys=nosuch\\n {21}\\^\\n`),
  );
});
