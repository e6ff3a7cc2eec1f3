/**
 * Filter parsing, read-back, errnos and error_log entries compared with what a real kernel (6.18) answered for the
 * same text on sched:sched_switch (captured once into fixtures/; see docs/LANGUAGES.md).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CollectingErrorLog } from '../../../src/trace/languages/error-log.js';
import { readEventFilter, writeEventFilter } from '../../../src/trace/languages/filter/event-filter.js';
import { repoRoot } from '../../support/paths.js';
import { schedSwitch } from './events.js';

interface KernelCase {
  input: string;
  errno: number;
  readback: string;
  errorLog: { location: string; message: string; command: string; pos: number }[];
}

const cases = JSON.parse(
  readFileSync(`${repoRoot}/test/trace/languages/fixtures/kernel-sched_switch-filters.json`, 'utf8'),
) as KernelCase[];

test('filter answers match the kernel for every captured input', () => {
  assert.ok(cases.length >= 100);
  for (const c of cases) {
    const log = new CollectingErrorLog();
    const r = writeEventFilter(schedSwitch, c.input, log);
    const what = JSON.stringify(c.input);
    assert.equal(r.errno, c.errno, `errno of ${what}`);
    // A successful "0" clears; the kernel then reads back "none".
    assert.equal(readEventFilter(r.state), c.readback, `read-back of ${what}`);
    assert.deepEqual(log.entries, c.errorLog, `error_log of ${what}`);
    assert.equal(r.state.filter !== undefined, c.errno === 0 && c.readback !== 'none\n', `active state of ${what}`);
  }
});
