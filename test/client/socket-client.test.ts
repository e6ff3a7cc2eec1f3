/** The TreeClient over the serving process's socket: the same contract as over the mount, with FUSE and without. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openTarget, SocketClient } from '../../src/client/index.js';
import { mountTracefs } from '../tracefs/helpers.js';
import { clientContract } from './contract.js';

clientContract(
  (name, fn) => test(`beside FUSE: ${name}`, fn),
  async (t) => {
    const m = await mountTracefs(t);
    assert.equal(m.fuse, true);
    const c = await openTarget(m.socket!);
    assert.ok(c instanceof SocketClient);
    t.after(() => c.close());
    return c;
  },
);

clientContract(
  (name, fn) => test(`socket alone: ${name}`, fn),
  async (t) => {
    const m = await mountTracefs(t, { fuse: false });
    assert.equal(m.fuse, false);
    const c = await openTarget(m.socket!);
    t.after(() => c.close());
    return c;
  },
);
