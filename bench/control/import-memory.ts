/**
 * What importing ntrace costs before anything is traced: ArrayBuffer memory (`process.memoryUsage().arrayBuffers`,
 * what APM dashboards show) after `import`, after the first `defineEvent`, after the first record and after a hist
 * trigger, and the wall and CPU time of the import — each in a fresh process, median of `--runs N` (default 5).
 *
 *   node dist/bench/control/import-memory.js [--runs N] [--json]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median, round } from '../support/stats.js';

const url = (p: string) => JSON.stringify(fileURLToPath(new URL(p, import.meta.url)));
const probe = `
  const mb = () => process.memoryUsage().arrayBuffers / 2 ** 20;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const m = await import(${url('../../src/index.js')});
  const importMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const out = { importMs, importCpuMs: (c.user + c.system) / 1000, atImport: mb() };
  const ev = m.defineEvent('importbench', 'e', { a: 'u32' });
  out.afterDefine = mb();
  const engine = await import(${url('../../src/trace/engine.js')});
  engine.setEventEnabled(0, ev.id, true);
  ev.emit({ a: 1 });
  out.afterRecord = mb();
  const control = await import(${url('../../src/trace/control/index.js')});
  control.writeTrigger(0, ev.id, 'hist:keys=a', { add() {} });
  ev.emit({ a: 1 });
  out.afterHist = mb();
  console.log(JSON.stringify(out));`;

const runsArg = process.argv.indexOf('--runs');
const runs = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 5;
const samples: Record<string, number>[] = [];
for (let i = 0; i < runs; i++) {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  samples.push(JSON.parse(r.stdout) as Record<string, number>);
}
const result: Record<string, number> = {};
for (const k of Object.keys(samples[0])) result[k] = round(median(samples.map((s) => s[k])), 1);
if (process.argv.includes('--json')) console.log(JSON.stringify(result));
else for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(14)} ${v} ${k.endsWith('Ms') ? 'ms' : 'MB'}`);
