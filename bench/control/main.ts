/**
 * What the control plane costs on the emitting thread.
 *
 *   node --expose-gc dist/bench/control/main.js [--json]
 *
 * Cases: a disabled event (must not change), an enabled event without control state (the emitter's extra state
 * test), an enabled event with a filter that passes and one that rejects (evaluated on the values before
 * encoding: a rejected record must cost less than a recorded one), and a hist trigger on an event that does not
 * record (soft mode). Method as bench/emit: each case its own function, 15 interleaved rounds of ~40 ms, fastest
 * round's ns/op, loop overhead included (bench/support/timing.ts).
 *
 * Checks after the timing (each can fail the run: exit code 1): every emit of the recording cases was recorded
 * (entries + overruns = emits, the filter passing every one), the rejecting filter recorded nothing, the hist
 * table counted every emit of its event, and the engine counted no internal error.
 */
import { defineEvent } from '../../src/index.js';
import { readHist, setEventFilter, writeTrigger } from '../../src/trace/control/index.js';
import { createInstance, setBufferSizeKb, setEventEnabled } from '../../src/trace/engine.js';
import { counted, failOnChecks, RecordCount, recordChecks } from '../support/records.js';
import { fastest, round } from '../support/stats.js';
import { calibrate, runRounds, type TimedCase } from '../support/timing.js';

const json = process.argv.includes('--json');
/** `--only a,b`: run only the named cases (and the loop), for quick comparisons while changing the hook. */
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg >= 0 ? new Set(['loop', ...(process.argv[onlyArg + 1] ?? '').split(',')]) : undefined;
const ROUNDS = 15;
const ROUND_MS = 40;
let sink = 0;

const fields = { a: 'u32', b: 'u32', status: 'u16', s: 'string' } as const;
const off = defineEvent('cbench', 'off', fields);
const plain = defineEvent('cbench', 'plain', fields);
const pass = defineEvent('cbench', 'pass', fields);
const reject = defineEvent('cbench', 'reject', fields);
const hist = defineEvent('cbench', 'hist', fields);
const inst = createInstance('control-bench');
setBufferSizeKb(inst, 4096);
for (const e of [plain, pass, reject]) setEventEnabled(inst, e.id, true);
const log = { add() {} };
if (setEventFilter(inst, pass.id, 'status >= 500', log) !== 0) throw new Error('filter');
if (setEventFilter(inst, reject.id, 'status >= 600', log) !== 0) throw new Error('filter');
if (writeTrigger(inst, hist.id, 'hist:keys=status:vals=a', log) !== 0) throw new Error('hist');

const allCases: TimedCase[] = [
  {
    name: 'loop',
    run(n) {
      let x = 0;
      for (let i = 0; i < n; i++) x ^= i;
      sink ^= x;
    },
    samples: [],
  },
  {
    name: 'disabled.guarded',
    run(n) {
      let x = 0;
      for (let i = 0; i < n; i++) {
        if (off.enabled) off.emit({ a: i, b: i * 3, status: 500 + (i & 7), s: 'GET /x' });
        x ^= i;
      }
      sink += x;
    },
    samples: [],
  },
  {
    name: 'enabled.no-control',
    run(n) {
      let x = 0;
      for (let i = 0; i < n; i++) {
        if (plain.enabled) plain.emit({ a: i, b: i * 3, status: 500 + (i & 7), s: 'GET /x' });
        x ^= i;
      }
      sink += x;
    },
    samples: [],
  },
  {
    name: 'enabled.filter-passes',
    run(n) {
      let x = 0;
      for (let i = 0; i < n; i++) {
        if (pass.enabled) pass.emit({ a: i, b: i * 3, status: 500 + (i & 7), s: 'GET /x' });
        x ^= i;
      }
      sink += x;
    },
    samples: [],
  },
  {
    name: 'enabled.filter-rejects',
    run(n) {
      let x = 0;
      for (let i = 0; i < n; i++) {
        if (reject.enabled) reject.emit({ a: i, b: i * 3, status: 500 + (i & 7), s: 'GET /x' });
        x ^= i;
      }
      sink += x;
    },
    samples: [],
  },
  {
    name: 'hist-trigger.only',
    run(n) {
      let x = 0;
      for (let i = 0; i < n; i++) {
        if (hist.enabled) hist.emit({ a: i, b: i * 3, status: 500 + (i & 7), s: 'GET /x' });
        x ^= i;
      }
      sink += x;
    },
    samples: [],
  },
];

/** Emits by what should come of them: recorded (no control, filter passes), rejected, counted by the hist. */
const recorded = { emits: 0 };
const rejected = { emits: 0 };
const histed = { emits: 0 };
const counters: Record<string, { emits: number }> = {
  'enabled.no-control': recorded,
  'enabled.filter-passes': recorded,
  'enabled.filter-rejects': rejected,
  'hist-trigger.only': histed,
};
const cases = (only ? allCases.filter((c) => only.has(c.name)) : allCases).map((c) =>
  counters[c.name] ? counted(c, counters[c.name]) : c,
);

const records = new RecordCount(inst);
for (const c of cases) calibrate(c, ROUND_MS);
runRounds(cases, ROUNDS, { before: () => records.clear() });

const result: Record<string, number | boolean> = {};
for (const c of cases) result[c.name] = round(fastest(c.samples), 2);
Object.assign(result, recordChecks('recorded', recorded.emits, records.written()));
if (recorded.emits === 0) delete result['check.recorded.records_match']; // --only without a recording case
result['check.hist.emits'] = histed.emits;
result['check.hist.hits'] = Number(/Hits: (\d+)/.exec(readHist(inst, hist.id))?.[1] ?? -1);
if (histed.emits > 0) result['check.hist.hits_match'] = result['check.hist.hits'] === histed.emits;
if (json) console.log(JSON.stringify(result));
else
  for (const [k, v] of Object.entries(result))
    console.log(`${k.padEnd(40)} ${typeof v === 'number' && !k.startsWith('check.') ? `${v.toFixed(2)} ns/op` : v}`);
if (sink === 0.5) console.log('');
failOnChecks(result);
