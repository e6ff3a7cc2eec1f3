/**
 * Events only Node 22 publishes (this machine's Node may be 20): a real app under a Node 22 binary installed from
 * the npm registry (test/support/node22.ts), started with `--import ntrace/register`.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LAZY_PERIOD_MS } from '../../src/node/index.js';
import { NODE22_VERSION, node22, node22Unavailable } from '../support/node22.js';
import { read, startApp } from './helpers.js';

const unavailable = node22Unavailable();

test(`Node ${NODE22_VERSION}: module require/import and console.* as node_process events`, {
  skip: unavailable,
  timeout: 600_000,
}, async (t) => {
  const app = await startApp(t, { execPath: node22() });
  const events = join(app.mount, 'events/node_process');
  for (const e of ['module_require', 'module_import', 'console', 'execve'])
    assert.ok(read(join(events, e, 'format')).includes(`name: ${e}`), `node_process:${e} is defined`);
  await app.send('modules'); // nothing enabled: nothing recorded
  await app.send('console');
  assert.doesNotMatch(read(join(app.mount, 'trace')), /module_|console:/);
  for (const e of ['module_require', 'module_import', 'console']) writeFileSync(join(events, e, 'enable'), '1');
  await sleep(LAZY_PERIOD_MS * 5);
  await app.send('modules');
  await app.send('console');
  const trace = read(join(app.mount, 'trace'));
  assert.match(
    trace,
    /module_require: id=\.\.\/\.\.\/\.\.\/package\.json parent=\/\S+\/app\.js duration_ns=[1-9]\d* error=0$/m,
  );
  assert.match(trace, /module_import: url=node:zlib parent=file:\/\/\S+\/app\.js duration_ns=[1-9]\d* error=0$/m);
  assert.equal(
    trace.match(/module_import: url=\.\/no-such-module\.js parent=\S+ duration_ns=\d+ error=1$/gm)?.length,
    1,
  );
  assert.equal(
    trace.match(/module_require: id=\.\/no-such-module\.cjs parent=\S+ duration_ns=\d+ error=1$/gm)?.length,
    1,
  );
  assert.match(trace, /console: warn: warned 3 times \{ why: 'test' \}$/m);
  const long = /console: error: (x+)$/m.exec(trace);
  assert.equal(long?.[1].length, 256, 'a message is cut at 256 characters');
});
