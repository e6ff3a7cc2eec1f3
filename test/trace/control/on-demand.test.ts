/**
 * Importing ntrace does not load the control plane: a thread loads it on its first emit that meets a filter or a
 * trigger, synchronously, so that very emit is filtered and fires its triggers. The emitting thread here is a worker
 * that imported only the package entry, started after the filter and trigger were set.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { defineEvent } from '../../../src/index.js';
import { readHist, setEventFilter, writeTrigger } from '../../../src/trace/control/index.js';
import { createInstance, destroyInstance, setEventEnabled } from '../../../src/trace/engine.js';
import { CollectingErrorLog } from '../../../src/trace/languages/error-sink.js';
import { recordsOf } from './support.js';

const fields = { n: 'u32' } as const;
const ev = defineEvent('ondemand', 'rec', fields);
const entry = JSON.stringify(new URL('../../../src/index.js', import.meta.url).href);

test("a worker's first emits meet a filter and a hist trigger it has never loaded", async (t) => {
  const filtered = createInstance('ondemand-filter');
  const counted = createInstance('ondemand-hist');
  t.after(() => {
    destroyInstance(filtered);
    destroyInstance(counted);
  });
  const log = new CollectingErrorLog();
  setEventEnabled(filtered, ev.id, true);
  assert.equal(setEventFilter(filtered, ev.id, 'n < 3', log), 0);
  assert.equal(writeTrigger(counted, ev.id, 'hist:keys=n', log), 0);
  const worker = new Worker(
    `import(${entry}).then(({ defineEvent }) => {
       const ev = defineEvent('ondemand', 'rec', ${JSON.stringify(fields)});
       for (let n = 0; n < 6; n++) ev.emit({ n });
     });`,
    { eval: true },
  );
  const code = await new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', resolve);
  });
  assert.equal(code, 0);
  assert.deepEqual(
    recordsOf(filtered, ev.id).map((r) => r.n),
    [0, 1, 2],
    'the first emit was filtered',
  );
  assert.match(readHist(counted, ev.id), /Hits: 6\b/);
});
