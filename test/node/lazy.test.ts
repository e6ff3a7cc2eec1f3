/** Lazy subscriptions: a channel is subscribed exactly while an event derived from it is enabled in some instance. */
import assert from 'node:assert/strict';
import dc from 'node:diagnostics_channel';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LAZY_PERIOD_MS, startNodeEvents } from '../../src/node/index.js';
import { createInstance, destroyInstance, findEvent, setEventEnabled } from '../../src/trace/engine.js';

test('subscribed only while a derived event is enabled, in any instance; the timer alone notices', async (t) => {
  const events = startNodeEvents({ watchLoop: false });
  t.after(() => events.stop());
  const id = (name: string) => findEvent('node_http', name)?.id ?? assert.fail(`node_http:${name} is not defined`);
  const serverChannels = ['http.server.request.start', 'http.server.response.finish'];
  const subscribed = () => serverChannels.map((c) => dc.hasSubscribers(c));
  assert.deepEqual(subscribed(), [false, false], 'nothing enabled: Node publishes to nobody');
  assert.equal(dc.hasSubscribers('undici:request:create'), false);

  const inst = createInstance('lazy-test');
  t.after(() => destroyInstance(inst));
  setEventEnabled(inst, id('server_response'), true);
  // No call into the node layer: its timer reads the shared flag.
  await sleep(LAZY_PERIOD_MS * 3);
  assert.deepEqual(subscribed(), [true, true], 'server_response needs both: the start time and the finish');
  assert.equal(dc.hasSubscribers('http.client.request.start'), false, 'other sources stay detached');

  setEventEnabled(0, id('server_request'), true);
  setEventEnabled(inst, id('server_response'), false);
  events.check();
  assert.deepEqual(subscribed(), [true, true], 'still enabled at the top level');
  setEventEnabled(0, id('server_request'), false);
  events.check();
  assert.deepEqual(subscribed(), [false, false], 'the last one disabled: unsubscribed');
});

test('only events whose source this Node version publishes are defined', () => {
  startNodeEvents({ watchLoop: false });
  const [major, minor] = process.versions.node.split('.').map(Number);
  const hasClientError = (major === 20 && minor >= 17) || (major === 22 && minor >= 6) || major >= 23;
  assert.equal(findEvent('node_http', 'client_error') !== undefined, hasClientError);
  // Node 22's module loading, console and execve channels (test/register/node22.test.ts runs them on Node 22).
  const has22 = (m: number) => major > 22 || (major === 22 && minor >= m);
  assert.equal(findEvent('node_process', 'module_require') !== undefined, has22(15));
  assert.equal(findEvent('node_process', 'module_import') !== undefined, has22(15));
  assert.equal(findEvent('node_process', 'execve') !== undefined, has22(15));
  assert.equal(findEvent('node_process', 'console') !== undefined, has22(14));
  for (const [system, name] of [
    ['node_http', 'server_request'],
    ['node_fetch', 'request_create'],
    ['node_net', 'listen'],
    ['node_dgram', 'socket'],
    ['node_process', 'child_process'],
    ['node_runtime', 'gc'],
    ['node_runtime', 'loop_delay'],
  ])
    assert.ok(findEvent(system, name), `${system}:${name}`);
});
