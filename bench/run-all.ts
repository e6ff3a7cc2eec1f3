/**
 * `npm run bench`: every benchmark in turn, each in its own process (so one's heap and JIT state never colour
 * another's figures), with the flags it needs. Arguments are passed on (`npm run bench -- --json` prints each
 * benchmark's JSON object on its own line). Exits non-zero if any benchmark failed.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const BENCHMARKS: readonly { name: string; gc: boolean }[] = [
  { name: 'kernfs-memory', gc: true },
  { name: 'emit', gc: true },
  { name: 'languages', gc: false },
  { name: 'control', gc: true },
  { name: 'fuse-metadata', gc: false },
  { name: 'tracefs', gc: true },
  { name: 'read', gc: false },
  { name: 'import', gc: false },
  { name: 'node', gc: false },
  { name: 'socket', gc: false },
  { name: 'record', gc: false },
  { name: 'ship', gc: false },
];

const args = process.argv.slice(2);
const failed: string[] = [];
for (const b of BENCHMARKS) {
  if (!args.includes('--json')) process.stdout.write(`\n=== ${b.name}\n`);
  const flags = b.gc ? ['--expose-gc'] : [];
  const r = spawnSync(process.execPath, [...flags, join(here, b.name, 'main.js'), ...args], { stdio: 'inherit' });
  if (r.status !== 0) failed.push(b.name);
}
if (failed.length > 0) {
  process.stderr.write(`benchmarks failed: ${failed.join(', ')}\n`);
  process.exitCode = 1;
}
