/** The register tests' worker thread: defines and emits an event of its own, then makes an HTTP request. */
import { get } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { defineEvent } from '../../src/index.js';

const work = defineEvent('app', 'work', { n: 'u32' });
work.emit({ n: 7 });
get({ host: '127.0.0.1', port: (workerData as { port: number }).port, path: '/from-worker', agent: false }, (res) => {
  res.resume();
  res.on('end', () => parentPort?.postMessage('done'));
});
