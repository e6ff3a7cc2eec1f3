/**
 * Answers recorded side by side from the kernel's tracefs (Linux 6.x, as root) and checked here against ntrace, so
 * they stay fixed. Deliberate differences (docs/TRACEFS.md) are left out; where ntrace's limit differs only in
 * size (trace_marker), the kernel's kind of answer is asserted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineEvent } from '../../src/trace/event.js';
import { mountTracefs, py, sh, uniqueSystem } from './helpers.js';

/** Runs `checks` (one `t(lambda: ...)` a line, labelled) and returns label → answer. */
function answers(checks: readonly (readonly [string, string])[], setup = ''): Record<string, string> {
  const code = `${setup}\n${checks.map(([label, expr]) => `print(${JSON.stringify(label)}, end='=')\nt(lambda: ${expr})`).join('\n')}`;
  const out = py(code);
  return Object.fromEntries(out.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** rmdir while a file of the instance is open. */
const BUSY = `
def busy(d, f):
    fd = os.open(f, os.O_RDONLY)
    try:
        os.rmdir(d)
    finally:
        os.close(fd)
`;

function expectAll(got: Record<string, string>, want: Record<string, string>): void {
  assert.deepEqual(got, want);
}

test('tracing_on, buffer_size_kb, trace_clock, current_tracer accept and refuse what the kernel does', async (t) => {
  const d = (await mountTracefs(t)).mountpoint;
  const checks: [string, string][] = [];
  const want: Record<string, string> = {};
  const add = (label: string, expr: string, answer: string) => {
    checks.push([label, expr]);
    want[label] = answer;
  };
  const on = [
    ['0', '1'],
    ['1', '1'],
    ['2', '1'],
    ['x', 'EINVAL'],
    [' 1', 'EINVAL'],
    ['-1', 'EINVAL'],
    ['1\\n', '2'],
    ['01', '2'],
    ['0x1', 'EINVAL'],
    [' ', 'EINVAL'],
  ];
  for (const [v, a] of on) add(`tracing_on ${v}`, `w('${d}/tracing_on', b'${v}')`, a);
  add('tracing_on back', `w('${d}/tracing_on', b'1')`, '1');
  const kb = [
    ['0', 'EINVAL'],
    ['abc', 'EINVAL'],
    ['-1', 'EINVAL'],
    [' 7', 'EINVAL'],
    ['999999999999', 'ENOMEM'],
    ['99999999999999999999999', 'ERANGE'],
  ];
  for (const [v, a] of kb) add(`buffer_size_kb ${v}`, `w('${d}/buffer_size_kb', b'${v}')`, a);
  const clock = [
    ['global', '6'],
    ['bogus', 'EINVAL'],
    ['counter', '7'],
    ['mono', '4'],
    [' global', '7'],
    ['[local]', 'EINVAL'],
    ['local', '5'],
  ];
  for (const [v, a] of clock) add(`trace_clock ${v}`, `w('${d}/trace_clock', b'${v}')`, a);
  const tracer = [
    ['nop', '3'],
    ['bogus', 'EINVAL'],
    ['nop\\n', '4'],
    [' nop', '4'],
  ];
  for (const [v, a] of tracer) add(`current_tracer ${v}`, `w('${d}/current_tracer', b'${v}')`, a);
  expectAll(answers(checks), want);
});

test('set_event tokens and enable files at event, system and top level answer like the kernel', async (t) => {
  const d = (await mountTracefs(t)).mountpoint;
  const sys = uniqueSystem('parity');
  defineEvent(sys, 'parity_sw', { prev_pid: 'u32' });
  defineEvent(sys, 'parity_wk', { pid: 'u32' });
  const checks: [string, string][] = [];
  const want: Record<string, string> = {};
  const add = (label: string, expr: string, answer: string) => {
    checks.push([label, expr]);
    want[label] = answer;
  };
  const se = `${d}/set_event`;
  const tokens = [
    [`${sys}:parity_sw`, `${sys.length + 10}`, '1'],
    [`!${sys}:parity_sw`, `${sys.length + 11}`, '0'],
    ['nosuch:ev', 'EINVAL', '0'],
    [sys, `${sys.length}`, '2'],
    [`${sys}:`, `${sys.length + 1}`, '2'],
    [':parity_sw', '10', '1'],
    ['parity_sw', '9', '1'],
    ['!nosuch', 'EINVAL', '0'],
    // One token a write: the rest after a separator is left for the next write (a short count).
    [`${sys}:parity_sw ${sys}:parity_wk`, `${sys.length + 11}`, '1'],
    [`${sys}:parity_sw\\n${sys}:parity_wk`, `${sys.length + 11}`, '1'],
  ];
  for (const [i, [v, a, n]] of tokens.entries()) {
    add(`set_event ${i}`, `w('${se}', b'${v}', os.O_WRONLY|os.O_APPEND)`, a);
    add(`set_event ${i} count`, `len([l for l in open('${se}').read().split() if l.startswith('${sys}:')])`, n);
    add(`set_event ${i} trunc`, `os.close(os.open('${se}', os.O_WRONLY|os.O_TRUNC))`, 'OK');
  }
  add('set_event *:*', `w('${se}', b'*:*', os.O_WRONLY|os.O_APPEND)`, '3');
  add('set_event *:* count', `len([l for l in open('${se}').read().split() if l.startswith('${sys}:')])`, '2');
  add('set_event *:* trunc', `os.close(os.open('${se}', os.O_WRONLY|os.O_TRUNC))`, 'OK');
  for (const p of [`events/${sys}/parity_sw/enable`, `events/${sys}/enable`, 'events/enable']) {
    const writes = [
      ['0', '1', '0'],
      ['1', '1', '1'],
      ['2', 'EINVAL', '1'],
      ['x', 'EINVAL', '1'],
      ['1\\n', '2', '1'],
      [' 1', 'EINVAL', '1'],
      ['0\\n', '2', '0'],
    ];
    for (const [v, a, r] of writes) {
      add(`${p} ${v}`, `w('${d}/${p}', b'${v}')`, a);
      add(`${p} ${v} read`, `open('${d}/${p}').read().strip()`, r);
    }
  }
  expectAll(answers(checks), want);
});

test('markers, error_log, trace and trace_pipe answer like the kernel', async (t) => {
  const d = (await mountTracefs(t)).mountpoint;
  const got = answers([
    ['marker 1', `w('${d}/trace_marker', b'a')`],
    ['marker 1024', `w('${d}/trace_marker', b'a' * 1024)`],
    // A longer text is cut to what one record holds: a short count, never an error.
    ['marker 100000 cut', `0 < w('${d}/trace_marker', b'a' * 100000) < 4096`],
    ['raw 3', `w('${d}/trace_marker_raw', b'\\1' * 3)`],
    ['raw 4', `w('${d}/trace_marker_raw', b'\\1' * 4)`],
    ['raw 8', `w('${d}/trace_marker_raw', b'\\1' * 8)`],
    // A raw record is never cut: too big for one event is EINVAL.
    ['raw 4096', `w('${d}/trace_marker_raw', b'\\1' * 4096)`],
    ['raw 5000', `w('${d}/trace_marker_raw', b'\\1' * 5000)`],
    ['error_log trunc', `os.close(os.open('${d}/error_log', os.O_WRONLY|os.O_TRUNC))`],
    ['error_log x', `w('${d}/error_log', b'x')`],
    ['trace trunc', `os.close(os.open('${d}/trace', os.O_WRONLY|os.O_TRUNC))`],
    ['trace x', `w('${d}/trace', b'x')`],
    ['trace_pipe empty', `os.read(os.open('${d}/trace_pipe', os.O_RDONLY|os.O_NONBLOCK), 4096)`],
    ['free_buffer', `w('${d}/free_buffer', b'x')`],
    ['saved_cmdlines', `type(open('${d}/saved_cmdlines', 'rb').read()).__name__`],
  ]);
  expectAll(got, {
    'marker 1': '1',
    'marker 1024': '1024',
    'marker 100000 cut': 'True',
    'raw 3': 'EINVAL',
    'raw 4': '4',
    'raw 8': '8',
    'raw 4096': 'EINVAL',
    'raw 5000': 'EINVAL',
    'error_log trunc': 'OK',
    'error_log x': '1',
    'trace trunc': 'OK',
    'trace x': '1',
    'trace_pipe empty': 'EAGAIN',
    free_buffer: '1',
    saved_cmdlines: 'bytes',
  });
  const header = py(`print('\\n'.join(l for l in open('${d}/trace').read().split('\\n') if l.startswith('#')))`);
  assert.deepEqual(header.slice(0, 2), ['# tracer: nop', '#']);
  assert.match(header[2] ?? '', /^# entries-in-buffer\/entries-written: \d+\/\d+ {3}#P:\d+$/);
  assert.deepEqual(header.slice(3), [
    '#',
    '#                                _-----=> irqs-off/BH-disabled',
    '#                               / _----=> need-resched',
    '#                              | / _---=> hardirq/softirq',
    '#                              || / _--=> preempt-depth',
    '#                              ||| / _-=> migrate-disable',
    '#                              |||| /     delay',
    '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
    '#              | |         |   |||||     |         |',
  ]);
});

test('creating, removing, renaming and linking outside instances/ answer like the kernel', async (t) => {
  const d = (await mountTracefs(t)).mountpoint;
  const sys = uniqueSystem('parity');
  defineEvent(sys, 'parity_ev', { v: 'u32' });
  const ev = `events/${sys}/parity_ev`;
  const checks: [string, string][] = [];
  const want: Record<string, string> = {};
  const add = (label: string, expr: string, answer: string) => {
    checks.push([label, expr]);
    want[label] = answer;
  };
  for (const p of ['newfile', 'events/newfile', 'instances/newfile', `events/${sys}/newfile`, `${ev}/newfile`]) {
    add(`touch ${p}`, `os.close(os.open('${d}/${p}', os.O_WRONLY|os.O_CREAT, 0o644))`, 'EACCES');
    // A regular-file mknod goes through ->create in Linux: EACCES like O_CREAT, not mknod's EPERM.
    add(`mknod ${p}`, `os.mknod('${d}/${p}')`, 'EACCES');
  }
  add('mkfifo', `os.mknod('${d}/fifo', 0o600 | 0o010000)`, 'EPERM');
  for (const p of ['newdir', 'events/newdir', `events/${sys}/newdir`, 'per_cpu/newdir', 'options/newdir']) {
    add(`mkdir ${p}`, `os.mkdir('${d}/${p}')`, 'EPERM');
  }
  for (const p of ['events', `events/${sys}`, 'per_cpu', 'options', 'instances', ev]) {
    add(`rmdir ${p}`, `os.rmdir('${d}/${p}')`, 'EPERM');
  }
  for (const p of ['trace', `events/${sys}/enable`, `${ev}/enable`, 'options/hex']) {
    add(`unlink ${p}`, `os.unlink('${d}/${p}')`, 'EPERM');
  }
  add('rename trace', `os.rename('${d}/trace', '${d}/trace2')`, 'EPERM');
  add('rename system', `os.rename('${d}/events/${sys}', '${d}/events/${sys}x')`, 'EPERM');
  for (const p of ['lnk', 'events/lnk', 'instances/lnk'])
    add(`symlink ${p}`, `os.symlink('trace', '${d}/${p}')`, 'EPERM');
  add('link trace', `os.link('${d}/trace', '${d}/tracehl')`, 'EPERM');
  add('setxattr', `os.setxattr('${d}/trace', 'user.x', b'1')`, 'ENOTSUP');
  add('truncate trace', `os.truncate('${d}/trace', 0)`, 'OK');
  add('truncate tracing_on', `os.truncate('${d}/tracing_on', 0)`, 'OK');
  add('lookup events/nosuch', `os.stat('${d}/events/nosuch')`, 'ENOENT');
  add('lookup system/nosuch', `os.stat('${d}/events/${sys}/nosuch')`, 'ENOENT');
  expectAll(answers(checks), want);
});

test('instance names and the files inside an instance answer like the kernel', async (t) => {
  const d = (await mountTracefs(t)).mountpoint;
  const i = `${d}/instances`;
  const got = answers(
    [
      ['.', `os.mkdir('${i}/.')`],
      ['..', `os.mkdir('${i}/..')`],
      ['255', `os.mkdir('${i}/' + 'a' * 255)`],
      ['255 rmdir', `os.rmdir('${i}/' + 'a' * 255)`],
      ['256', `os.mkdir('${i}/' + 'a' * 256)`],
      ['nested', `os.mkdir('${i}/a/b')`],
      ['space', `os.mkdir('${i}/x y')`],
      ['space rmdir', `os.rmdir('${i}/x y')`],
      ['dash', `os.mkdir('${i}/-x')`],
      ['dash rmdir', `os.rmdir('${i}/-x')`],
      ['X', `os.mkdir('${i}/X')`],
      ['X again', `os.mkdir('${i}/X')`],
      ['X/sub', `os.mkdir('${i}/X/sub')`],
      ['X/instances', `os.mkdir('${i}/X/instances')`],
      ['X/events/f', `os.close(os.open('${i}/X/events/f', os.O_WRONLY|os.O_CREAT, 0o644))`],
      ['X/events/d', `os.mkdir('${i}/X/events/d')`],
      ['rmdir X/events', `os.rmdir('${i}/X/events')`],
      ['unlink X/trace', `os.unlink('${i}/X/trace')`],
      ['rename X', `os.rename('${i}/X', '${i}/Y')`],
      ['rmdir X busy', `busy('${i}/X', '${i}/X/trace_pipe')`],
      ['rmdir X', `os.rmdir('${i}/X')`],
      ['rmdir X again', `os.rmdir('${i}/X')`],
      ['unlink instances/nonexist', `os.unlink('${i}/nonexist')`],
    ],
    BUSY,
  );
  expectAll(got, {
    '.': 'EEXIST',
    '..': 'EEXIST',
    '255': 'OK',
    '255 rmdir': 'OK',
    '256': 'ENAMETOOLONG',
    nested: 'ENOENT',
    space: 'OK',
    'space rmdir': 'OK',
    dash: 'OK',
    'dash rmdir': 'OK',
    X: 'OK',
    'X again': 'EEXIST',
    'X/sub': 'EPERM',
    'X/instances': 'EPERM',
    'X/events/f': 'EACCES',
    'X/events/d': 'EPERM',
    'rmdir X/events': 'EPERM',
    'unlink X/trace': 'EPERM',
    'rename X': 'EPERM',
    'rmdir X busy': 'EBUSY',
    'rmdir X': 'OK',
    'rmdir X again': 'ENOENT',
    'unlink instances/nonexist': 'ENOENT',
  });
});

test('filter, trigger, id and options files answer like the kernel', async (t) => {
  const d = (await mountTracefs(t)).mountpoint;
  const sys = uniqueSystem('parity');
  defineEvent(sys, 'parity_ev', { prev_pid: 'u32' });
  const ev = `${d}/events/${sys}/parity_ev`;
  const got = answers([
    ['filter ok', `w('${ev}/filter', b'prev_pid == 1')`],
    ['filter ok read', `open('${ev}/filter').read().strip()`],
    ['filter bogus', `w('${ev}/filter', b'bogus')`],
    ['filter half', `w('${ev}/filter', b'prev_pid ==')`],
    ['filter nofield', `w('${ev}/filter', b'nosuchfield == 1')`],
    ['filter 0', `w('${ev}/filter', b'0')`],
    ['filter 0 read', `open('${ev}/filter').read().strip()`],
    ['sys filter ok', `w('${d}/events/${sys}/filter', b'prev_pid == 1')`],
    ['sys filter 0', `w('${d}/events/${sys}/filter', b'0')`],
    ['trigger traceon', `w('${ev}/trigger', b'traceon')`],
    ['trigger read', `open('${ev}/trigger').read().strip()`],
    ['trigger !traceon', `w('${ev}/trigger', b'!traceon')`],
    ['trigger bogus', `w('${ev}/trigger', b'bogus')`],
    ['trigger if', `w('${ev}/trigger', b'traceoff if prev_pid == 1')`],
    ['trigger if read', `open('${ev}/trigger').read().strip()`],
    ['trigger !traceoff', `w('${ev}/trigger', b'!traceoff')`],
    ['hex 1', `w('${d}/options/hex', b'1')`],
    ['hex 2', `w('${d}/options/hex', b'2')`],
    ['hex x', `w('${d}/options/hex', b'x')`],
    ['hex 0', `w('${d}/options/hex', b'0')`],
    ['trace_options hex', `w('${d}/trace_options', b'hex')`],
    ['trace_options nohex', `w('${d}/trace_options', b'nohex')`],
    ['trace_options bogus', `w('${d}/trace_options', b'bogus')`],
    ['trace_options nooverwrite', `w('${d}/trace_options', b'nooverwrite')`],
    ['trace_options overwrite', `w('${d}/trace_options', b'overwrite')`],
  ]);
  expectAll(got, {
    'filter ok': '13',
    'filter ok read': 'prev_pid == 1',
    'filter bogus': 'EINVAL',
    'filter half': 'EINVAL',
    'filter nofield': 'EINVAL',
    'filter 0': '1',
    'filter 0 read': 'none',
    'sys filter ok': '13',
    'sys filter 0': '1',
    'trigger traceon': '7',
    'trigger read': 'traceon:unlimited',
    'trigger !traceon': '8',
    'trigger bogus': 'EINVAL',
    'trigger if': '25',
    'trigger if read': 'traceoff:unlimited if prev_pid == 1',
    'trigger !traceoff': '9',
    'hex 1': '1',
    'hex 2': 'EINVAL',
    'hex x': 'EINVAL',
    'hex 0': '1',
    'trace_options hex': '3',
    'trace_options nohex': '5',
    'trace_options bogus': 'EINVAL',
    'trace_options nooverwrite': '11',
    'trace_options overwrite': '9',
  });
});

test('root opens a file for the access it lacks, as the kernel lets it, and the read or write answers EINVAL; others get EACCES at open', async (t) => {
  const sys = uniqueSystem('access');
  defineEvent(sys, 'e', { v: 'u32' });
  const m = await mountTracefs(t, { uid: 65534, gid: 65534, mode: 0o755, allowOther: true });
  const d = m.mountpoint;
  const e = `${d}/events/${sys}/e`;
  // The kernel's answers (Linux 6.x tracefs, as root): open succeeds, then EINVAL (inject from its source).
  const writeOnly = [`${d}/trace_marker`, `${d}/trace_marker_raw`, `${e}/inject`];
  const readOnly = [
    `${e}/format`,
    `${e}/id`,
    `${d}/available_events`,
    `${d}/README`,
    `${d}/events/header_page`,
    `${d}/trace_pipe`,
  ];
  const checks: [string, string][] = [
    ...writeOnly.map((p): [string, string] => [`read ${p}`, `os.read(os.open('${p}', os.O_RDONLY|os.O_NONBLOCK), 16)`]),
    ...readOnly.map((p): [string, string] => [`write ${p}`, `w('${p}', b'1', os.O_WRONLY|os.O_NONBLOCK)`]),
  ];
  const want = Object.fromEntries(checks.map(([label]) => [label, 'EINVAL']));
  expectAll(answers(checks), want);
  // Non-root, even the owner of every file: the mode bits (0220 / 0200 / 0440) refuse the open itself.
  const asOwner = (code: string) => {
    const r = sh(`setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c "${code}"`);
    return r.out.trim() || r.err.trim();
  };
  for (const p of writeOnly) {
    assert.equal(
      asOwner(`import os\ntry: os.open('${p}', os.O_RDONLY)\nexcept PermissionError: print('EACCES')`),
      'EACCES',
      p,
    );
  }
  for (const p of readOnly) {
    assert.equal(
      asOwner(`import os\ntry: os.open('${p}', os.O_WRONLY)\nexcept PermissionError: print('EACCES')`),
      'EACCES',
      p,
    );
  }
});
