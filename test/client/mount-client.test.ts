/** The TreeClient over a mount path, and openTarget's resolution of paths. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MountClient, openTarget, pathParts, TargetError } from '../../src/client/index.js';
import { mountTracefs } from '../tracefs/helpers.js';
import { clientContract } from './contract.js';

clientContract(test, async (t) => {
  const m = await mountTracefs(t);
  const c = await openTarget(m.mountpoint);
  assert.ok(c instanceof MountClient);
  return c;
});

test('paths never leave the root', () => {
  assert.deepEqual(pathParts('/a//b/./c/'), ['a', 'b', 'c']);
  assert.deepEqual(pathParts('../../a/../b'), ['b']);
});

test('openTarget refuses what it cannot use, saying why', async () => {
  await assert.rejects(
    openTarget('/nonexistent/x'),
    (e: unknown) => e instanceof TargetError && /no such/.test(String(e)),
  );
  await assert.rejects(openTarget('/etc/hostname'), TargetError);
  await assert.rejects(openTarget('999999999'), TargetError);
});

test('openTarget resolves a PID through the discovery index', async (t) => {
  const m = await mountTracefs(t);
  const c = await openTarget(String(process.pid));
  t.after(() => c.close());
  assert.equal(c.kind, 'socket'); // served always, so preferred
  assert.equal(c.location, m.socket);
  assert.equal(Buffer.from(await c.readFile('tracing_on')).toString(), '1\n');
});
