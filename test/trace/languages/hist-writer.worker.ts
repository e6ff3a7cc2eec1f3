/**
 * Worker for the concurrent hist test: attaches to a hist trigger's shared table and updates it. Does nothing when
 * loaded outside a worker (the test runner loads every file under test/).
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { HistTrigger, type HistTriggerData } from '../../../src/trace/languages/hist/hist-trigger.js';
import { forkEvent } from './events.js';

if (!isMainThread && parentPort) {
  const { data, cpu, n } = workerData as { data: HistTriggerData; cpu: number; n: number };
  const t = HistTrigger.fromSpec(forkEvent, data);
  const ctx = { pid: 1, cpu, comm: 'writer' };
  for (let i = 0; i < n; i++) t.update({ parent_pid: i % 50, child_pid: 1 }, ctx);
  parentPort.postMessage('done');
}
