import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatFileText } from '../../../src/trace/text/format-file.js';
import { headerEventText, headerPageText } from '../../../src/trace/text/header-page.js';
import { fixture, makeEvent, SCHED_SWITCH_FIELDS } from './support.js';

test('format file: the kernel layout, byte for byte (irq_handler_entry, C type names aside)', () => {
  const e = makeEvent(225, 'irq', 'irq_handler_entry', { irq: 's32', name: 'string' }, 'irq=%d name=%s');
  // ntrace names its integer types by their ntrace names (s32), where the kernel prints the C type (int).
  assert.equal(formatFileText(e).replace('field:s32 irq;', 'field:int irq;'), fixture('irq_handler_entry.format'));
});

test('format file: char arrays and layout like sched_switch', () => {
  const e = makeEvent(
    372,
    'sched',
    'sched_switch',
    SCHED_SWITCH_FIELDS,
    'prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%lld ==> next_comm=%s next_pid=%d next_prio=%d',
  );
  const want = fixture('sched_switch.format')
    .replace('pid_t prev_pid', 's32 prev_pid')
    .replace('int prev_prio', 's32 prev_prio')
    .replace('long prev_state', 's64 prev_state')
    .replace('pid_t next_pid', 's32 next_pid')
    .replace('int next_prio', 's32 next_prio');
  const got = formatFileText(e);
  // Everything up to the print fmt line is identical.
  assert.equal(got.slice(0, got.indexOf('print fmt:')), want.slice(0, want.indexOf('print fmt:')));
  assert.ok(
    got.endsWith(
      'print fmt: "prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%lld ==> next_comm=%s next_pid=%d next_prio=%d", ' +
        'REC->prev_comm, REC->prev_pid, REC->prev_prio, REC->prev_state, REC->next_comm, REC->next_pid, REC->next_prio\n',
    ),
  );
});

test('format file: every field type, default print fmt, no-field event', () => {
  const e = makeEvent(9, 'ntrace', 'types', {
    a: 'u8',
    b: 'bool',
    c: 'u64',
    s: 'string',
    d: 's16',
    arr: 'u32[3]',
    ch: 'char[3]',
  });
  assert.equal(
    formatFileText(e),
    'name: types\nID: 9\nformat:\n' +
      '\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n' +
      '\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n' +
      '\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n' +
      '\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n' +
      '\n' +
      '\tfield:u8 a;\toffset:8;\tsize:1;\tsigned:0;\n' +
      '\tfield:bool b;\toffset:9;\tsize:1;\tsigned:0;\n' +
      '\tfield:u64 c;\toffset:16;\tsize:8;\tsigned:0;\n' +
      '\tfield:__data_loc char[] s;\toffset:24;\tsize:4;\tsigned:0;\n' +
      '\tfield:s16 d;\toffset:28;\tsize:2;\tsigned:1;\n' +
      '\tfield:u32 arr[3];\toffset:32;\tsize:12;\tsigned:0;\n' +
      '\tfield:char ch[3];\toffset:44;\tsize:3;\tsigned:0;\n' +
      '\n' +
      'print fmt: "a=%u b=%d c=%llu s=%s d=%d arr=%s ch=%s", REC->a, REC->b, REC->c, __get_str(s), REC->d, ' +
      '__print_array(REC->arr, 3, 4), REC->ch\n',
  );
  const empty = makeEvent(10, 'ntrace', 'tick', {});
  assert.match(formatFileText(empty), /signed:1;\n\n\nprint fmt: ""\n$/);
});

test('header_page and header_event: the kernel text', () => {
  assert.equal(headerPageText(), fixture('header_page.txt'));
  assert.equal(headerPageText(4096 * 4 - 16), fixture('header_page.txt').replace('size:4080', 'size:16368'));
  assert.equal(headerEventText(), fixture('header_event.txt'));
});
