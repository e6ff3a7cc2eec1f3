/** One thread of the emit storm: emits `count` enabled records once the start word flips, reports its time. */
import { parentPort, workerData } from 'node:worker_threads';
import { defineEvent } from '../../src/index.js';
import { STORM_FIELDS } from './storm-event.js';

const { count, start } = workerData as { count: number; start: Int32Array };
const ev = defineEvent('bench', 'storm', STORM_FIELDS);
parentPort?.postMessage({ ready: true });
Atomics.wait(start, 0, 0);
const t0 = process.hrtime.bigint();
for (let i = 0; i < count; i++) ev.emit({ a: i, b: i * 3, c: i & 0xffff, s: 'GET /x' });
const ns = Number(process.hrtime.bigint() - t0);
parentPort?.postMessage({ ns });
