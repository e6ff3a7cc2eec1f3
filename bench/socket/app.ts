/**
 * The application the socket benchmark measures: kernel-sized events (for the metadata workloads) plus one event it
 * emits on request, mounted over FUSE and served on a socket by one serving thread — or, with a fourth argument
 * `no-fuse`, served on the socket alone (an app without FUSE, the case `ntrace mount` exists for). Protocol on
 * stdin/stdout: `emit N` → N records, then `emitted`.
 */
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { defineSpec, readSpec } from '../../src/cli/spec.js';
import { defineEvent, mount } from '../../src/index.js';

const [dir, socket, spec, mode] = process.argv.slice(2);
const fuse = mode !== 'no-fuse';
defineSpec(readSpec(spec));
const line = defineEvent('bench', 'line', { n: 'u32', text: 'string' });
const m = await mount(dir, { socket, fuse });
if (fuse) {
  if (!m.fuse) throw new Error('the benchmark compares against the FUSE mount: it needs FUSE');
  writeFileSync(`${dir}/buffer_size_kb`, '65536');
  writeFileSync(`${dir}/events/bench/line/enable`, '1');
}
process.stdout.write('ready\n');
for await (const cmd of createInterface({ input: process.stdin })) {
  const n = Number(/^emit (\d+)$/.exec(cmd)?.[1] ?? 0);
  for (let i = 0; i < n; i++) line.emit({ n: i, text: 'socket-benchmark' });
  process.stdout.write('emitted\n');
}
await m.close();
