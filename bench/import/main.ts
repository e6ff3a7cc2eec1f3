/**
 * `npm run bench:import`: what `import('ntrace')` costs a fresh process, against peers measured in the same run
 * (configurations alternate round by round, so machine noise hits them alike):
 *   - `node -e ''` (spawn to exit: the baseline every process pays);
 *   - `import('node:http')` (a comparable small module every server loads);
 *   - `import('ntrace')`, then a first `defineEvent` (what an instrumented module does at its top level).
 * Each process reports the wall and CPU time of its `await import(...)` and `process.memoryUsage().arrayBuffers`
 * after it (for ntrace also after the first defineEvent, which creates the engine's 16.8 MiB state, after its first
 * record, and after a hist trigger takes a pool slot: what APM dashboards would show at each step). Medians of
 * `--rounds N` (default 15). Check (exit 1 when it fails): the median ntrace import ≤ 20 ms and ≤ 16 MB of
 * arrayBuffers (issue 15 item 7). `--json` prints one object; `--peer DIST/src/index.js` adds another build of
 * ntrace (an older commit's) to the same rounds.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { median, round } from '../support/stats.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string' }, json: { type: 'boolean' }, peer: { type: 'string' } },
});
const ROUNDS = Number(values.rounds ?? 15);
const GOAL_MS = 20;
const GOAL_MB = 16;
const ntrace = JSON.stringify(new URL('../../src/index.js', import.meta.url).href);
const engine = JSON.stringify(new URL('../../src/trace/engine.js', import.meta.url).href);
const control = JSON.stringify(new URL('../../src/trace/control/index.js', import.meta.url).href);

/**
 * The probe a fresh process runs: the import timed, then its arrayBuffers; `after` (timed apart) runs next, and
 * `later` after that, untimed (it may set properties of \`more\`, printed too).
 */
const probe = (spec: string, after = '', later = '') => `
  const mb = () => process.memoryUsage().arrayBuffers / 2 ** 20;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const m = await import(${spec});
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const atImport = mb();
  const t1 = performance.now();
  ${after}
  const afterMs = performance.now() - t1;
  const more = { afterMb: mb() };
  ${later}
  console.log(JSON.stringify({ ms, cpuMs: (c.user + c.system) / 1000, afterMs, mb: atImport, ...more }));`;

interface Config {
  readonly name: string;
  readonly args: readonly string[];
}
const CONFIGS: readonly Config[] = [
  { name: "node -e ''", args: ['-e', ''] },
  { name: 'node:http', args: ['--input-type=module', '-e', probe("'node:http'")] },
  {
    name: 'ntrace',
    args: [
      '--input-type=module',
      '-e',
      probe(
        ntrace,
        "const ev = m.defineEvent('importbench', 'e', { a: 'u32' });",
        `(await import(${engine})).setEventEnabled(0, ev.id, true);
         ev.emit({ a: 1 });
         more.afterRecordMb = mb();
         (await import(${control})).writeTrigger(0, ev.id, 'hist:keys=a', { add() {} });
         ev.emit({ a: 1 });
         more.afterHistMb = mb();`,
      ),
    ],
  },
  // `--peer path/to/dist/src/index.js`: another build of ntrace (e.g. an older commit's), in the same rounds.
  ...(values.peer
    ? [
        {
          name: 'peer build',
          args: ['--input-type=module', '-e', probe(JSON.stringify(pathToFileURL(values.peer).href))],
        },
      ]
    : []),
];

interface Sample {
  /** spawn to exit */
  processMs: number;
  ms: number;
  cpuMs: number;
  afterMs: number;
  mb: number;
  afterMb: number;
  afterRecordMb?: number;
  afterHistMb?: number;
}

const samples = new Map<string, Sample[]>(CONFIGS.map((c) => [c.name, []]));
const load = loadavg()[0];
for (let r = 0; r < ROUNDS; r++) {
  for (const c of CONFIGS) {
    const t0 = performance.now();
    const p = spawnSync(process.execPath, c.args, { encoding: 'utf8' });
    const processMs = performance.now() - t0;
    if (p.status !== 0) throw new Error(`${c.name}: ${p.stderr}`);
    const zero = { ms: 0, cpuMs: 0, afterMs: 0, mb: 0, afterMb: 0 };
    const out = p.stdout.trim() ? (JSON.parse(p.stdout) as Omit<Sample, 'processMs'>) : zero;
    samples.get(c.name)!.push({ processMs, ...out });
  }
}

const med = (name: string, k: keyof Sample) => round(median(samples.get(name)!.map((s) => s[k] ?? 0)), 1);
const result = Object.fromEntries(
  CONFIGS.map((c) => [
    c.name,
    {
      processMs: med(c.name, 'processMs'),
      importMs: med(c.name, 'ms'),
      importCpuMs: med(c.name, 'cpuMs'),
      arrayBuffersMB: med(c.name, 'mb'),
      ...(c.name === 'ntrace'
        ? {
            firstDefineMs: med(c.name, 'afterMs'),
            afterDefineMB: med(c.name, 'afterMb'),
            afterRecordMB: med(c.name, 'afterRecordMb'),
            afterHistMB: med(c.name, 'afterHistMb'),
          }
        : {}),
    },
  ]),
);
const importMs = result.ntrace.importMs;
const mb = result.ntrace.arrayBuffersMB;
const checks = {
  [`import ntrace ≤ ${GOAL_MS} ms`]: importMs <= GOAL_MS,
  [`arrayBuffers ≤ ${GOAL_MB} MB`]: mb <= GOAL_MB,
};
if (values.json) {
  console.log(JSON.stringify({ rounds: ROUNDS, load: round(load, 1), result, checks }));
} else {
  console.log(`fresh processes, ${ROUNDS} rounds alternating, medians; load average ${load.toFixed(1)} at start`);
  console.log('                 process ms  import ms  import CPU ms  arrayBuffers MB');
  for (const c of CONFIGS) {
    const x = result[c.name];
    console.log(
      `${c.name.padEnd(16)} ${String(x.processMs).padStart(10)} ${String(x.importMs).padStart(10)} ${String(x.importCpuMs).padStart(14)} ${String(x.arrayBuffersMB).padStart(16)}`,
    );
  }
  const n = result.ntrace;
  console.log(`first defineEvent after the import: ${n.firstDefineMs} ms, arrayBuffers then ${n.afterDefineMB} MB`);
  console.log(`arrayBuffers after a first record: ${n.afterRecordMB} MB, after a hist trigger: ${n.afterHistMB} MB`);
  console.log(`ntrace import / node:http import: ${(importMs / result['node:http'].importMs).toFixed(2)}x`);
  for (const [k, ok] of Object.entries(checks)) console.log(`${ok ? 'ok  ' : 'FAIL'} ${k}`);
}
if (!Object.values(checks).every(Boolean)) process.exitCode = 1;
