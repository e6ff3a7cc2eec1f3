/**
 * Filter parsing, read-back, errnos and error_log entries compared with what a real kernel (6.18) answered for the
 * same text on sched:sched_switch and bridge:br_fdb_add (captured once into fixtures/; see docs/LANGUAGES.md).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CollectingErrorLog } from '../../../src/trace/languages/error-sink.js';
import { readEventFilter, writeEventFilter } from '../../../src/trace/languages/filter/event-filter.js';
import type { EventDescriptor } from '../../../src/trace/record.js';
import { repoRoot } from '../../support/paths.js';
import { brFdbAdd, schedSwitch } from './events.js';

interface KernelCase {
  input: string;
  errno: number;
  readback: string;
  errorLog: { location: string; message: string; command: string; pos: number }[];
}

function load(name: string): KernelCase[] {
  return JSON.parse(readFileSync(`${repoRoot}/test/trace/languages/fixtures/${name}`, 'utf8')) as KernelCase[];
}

for (const [event, file, min] of [
  [schedSwitch, 'kernel-sched_switch-filters.json', 100],
  [brFdbAdd, 'kernel-br_fdb_add-filters.json', 50],
] as [EventDescriptor, string, number][]) {
  test(`filter answers match the kernel for every input captured on ${event.system}:${event.name}`, () => {
    const cases = load(file);
    assert.ok(cases.length >= min);
    check(event, cases);
  });
}

function check(event: EventDescriptor, cases: KernelCase[]) {
  for (const c of cases) {
    const log = new CollectingErrorLog();
    const r = writeEventFilter(event, c.input, log);
    const what = JSON.stringify(c.input);
    assert.equal(r.errno, c.errno, `errno of ${what}`);
    // A successful "0" clears; the kernel then reads back "none".
    assert.equal(readEventFilter(r.state), c.readback, `read-back of ${what}`);
    assert.deepEqual(log.entries, c.errorLog, `error_log of ${what}`);
    assert.equal(r.state.filter !== undefined, c.errno === 0 && c.readback !== 'none\n', `active state of ${what}`);
  }
}
