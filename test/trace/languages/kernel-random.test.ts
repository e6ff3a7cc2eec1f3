/**
 * Randomly mutated filters and trigger commands, answered once by a real 6.18 kernel (sched:sched_switch filters;
 * a sequence of writes to bridge:br_fdb_add's trigger file, which never fires) and replayed here: same errno, same
 * error_log entry, same read-back. Generated with the seeded mutators of the fuzz tests (filters: seed 7; triggers:
 * seed 11, leaving out snapshot/hist commands that kernel lacked). Entries are compact:
 * filters [input, errno, message|null, pos|null, readsNone]; triggers [input, errno, read-back if it changed|null,
 * error_log entries|null].
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CollectingErrorLog, type ReportedError } from '../../../src/trace/languages/error-sink.js';
import {
  filterErrorText,
  readEventFilter,
  writeEventFilter,
} from '../../../src/trace/languages/filter/event-filter.js';
import { AVAILABLE_TRIGGERS_TEXT, TriggerSet } from '../../../src/trace/languages/trigger/trigger-set.js';
import { repoRoot } from '../../support/paths.js';
import { brFdbAdd, schedSwitch } from './events.js';
import { FakeInstance } from './trigger-host.js';

function load<T>(name: string): T {
  return JSON.parse(readFileSync(`${repoRoot}/test/trace/languages/fixtures/${name}`, 'utf8')) as T;
}

test('random filters: same answers as the kernel', () => {
  const cases = load<[string, number, string | null, number | null, boolean][]>(
    'kernel-sched_switch-random-filters.json',
  );
  assert.ok(cases.length >= 500);
  let accepted = 0;
  for (const [input, errno, message, pos, readsNone] of cases) {
    const log = new CollectingErrorLog();
    const r = writeEventFilter(schedSwitch, input, log);
    const what = JSON.stringify(input);
    assert.equal(r.errno, errno, `errno of ${what}`);
    if (errno === 0) {
      accepted++;
      assert.equal(log.entries.length, 0, what);
      if (readsNone) assert.equal(readEventFilter(r.state), 'none\n');
      else assert.equal(readEventFilter(r.state), `${input.replace(/[ \t\n\v\f\r]+$/, '')}\n`, what);
      continue;
    }
    assert.equal(log.entries.length, 1, what);
    assert.equal(log.entries[0].message, message, `message of ${what}`);
    assert.equal(log.entries[0].pos, pos, `pos of ${what}`);
    const text = input.replace(/[ \t\n\v\f\r]+$/, '');
    const shown = message === 'Error' ? { message: undefined, pos: 0 } : { message: message as never, pos: pos! };
    assert.equal(readEventFilter(r.state), `${filterErrorText(text, shown)}\n`, `read-back of ${what}`);
  }
  assert.ok(accepted > 20, `accepted ${accepted}`);
});

test('random trigger writes: same answers and read-backs as the kernel, write after write', () => {
  const cases = load<[string, number, string | null, ReportedError[] | null][]>(
    'kernel-br_fdb_add-random-triggers.json',
  );
  assert.ok(cases.length >= 500);
  const inst = new FakeInstance([
    'bridge:br_fdb_add',
    'bridge:fdb_delete',
    'bridge:br_fdb_update',
    'bridge:br_fdb_external_learn_add',
    'bridge:br_mdb_full',
  ]);
  const set = new TriggerSet(brFdbAdd);
  // That kernel had no snapshot and hist support, so its header lists fewer commands.
  const kernelHeader = '# Available triggers:\n# traceon traceoff stacktrace enable_event disable_event\n';
  let expected = kernelHeader;
  let accepted = 0;
  for (const [input, errno, readback, errorLog] of cases) {
    const log = new CollectingErrorLog();
    const got = set.write(input, inst, log);
    const what = JSON.stringify(input);
    assert.equal(got, errno, `errno of ${what}`);
    if (errno === 0) accepted++;
    if (readback !== null) expected = readback;
    const rb = set.read();
    assert.equal(rb === AVAILABLE_TRIGGERS_TEXT ? kernelHeader : rb, expected, `read-back after ${what}`);
    assert.deepEqual(log.entries, errorLog ?? [], `error_log of ${what}`);
  }
  assert.ok(accepted > 100, `accepted ${accepted}`);
  set.clear(inst);
});
