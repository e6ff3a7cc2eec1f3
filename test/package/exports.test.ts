/**
 * The package's public face as a user imports it (by its name, through package.json "exports"): the root export,
 * the `ntrace/worker` subpath, and a mount closed by `await using`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ntrace from 'ntrace';
import * as worker from 'ntrace/worker';
import { sharedHandles as engineHandles } from '../../src/trace/index.js';
import { isMountPoint as isMounted, tempMountpoint } from '../support/mount.js';

test('the root export is the application API; joining threads by hand is ntrace/worker', () => {
  assert.deepEqual(Object.keys(ntrace).sort(), [
    'DuplicateEventError',
    'EventBusyError',
    'TraceEvent',
    'defineEvent',
    'mount',
    'mountProblem',
    'setThreadName',
  ]);
  assert.deepEqual(Object.keys(worker).sort(), ['attachSharedState', 'sharedHandles']);
  // The same engine as the package's own (one copy of the module graph), so handles attach.
  assert.equal(worker.sharedHandles, engineHandles);
  assert.equal(worker.attachSharedState(worker.sharedHandles()), true);
});

test('await using a mount unmounts it at the end of the scope', async (t) => {
  let mounted: ntrace.TracefsMount | undefined;
  const dir = tempMountpoint(t, () => mounted?.close() ?? Promise.resolve());
  {
    await using m = await ntrace.mount(dir);
    mounted = m;
    assert.equal(isMounted(dir), true);
  }
  await mounted.closed;
  assert.equal(isMounted(dir), false);
});
