/**
 * tracing-error-log.tc re-targeted: a bad filter leaves one error_log entry whose caret line is 13 + pos characters
 * long ("  Command: " + pos spaces + "^\n"), with the location and message the kernel uses.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CollectingErrorLog, formatReportedError } from '../../../src/trace/languages/error-sink.js';
import { writeEventFilter } from '../../../src/trace/languages/filter/event-filter.js';
import { signalGenerate } from './events.js';

function errlogCheck(prefix: string, withCaret: string) {
  const pos = withCaret.indexOf('^');
  const command = withCaret.replace('^', '');
  const log = new CollectingErrorLog();
  const r = writeEventFilter(signalGenerate, command, log);
  assert.notEqual(r.errno, 0);
  assert.equal(log.entries.length, 1);
  const text = formatReportedError(log.entries[0]);
  assert.ok(text.startsWith(`${prefix}: error: `), text);
  const lines = text.split('\n');
  assert.equal(lines[1], `  Command: ${command}`);
  assert.equal(`${lines[2]}\n`.length, 13 + pos, text);
}

test('tracing-error-log: event filter parse error with its caret', () => {
  errlogCheck('event filter parse error', '((sig >= 10 && sig < 15) || dsig ^== 17) && comm != bash');
  errlogCheck('event filter parse error', '((sig >= 10 && sig < 15) || sig == 17) && comm != b^ash');
  // (the kernel points one past the start of the value, as it answered for "prev_pid == abc" on a real 6.18)
});
