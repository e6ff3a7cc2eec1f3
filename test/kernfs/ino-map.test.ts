/**
 * The inode table's map (src/kernfs/ino-map.ts): the same answers as a Map under long random mixes of set, get and
 * delete with inode numbers shaped like kernfs's (slot * 65536 + 1 + index, up to 2^53), across growth.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InoMap } from '../../src/kernfs/ino-map.js';
import { rng } from '../support/random.js';

test('InoMap answers as a Map does through growth and random deletes', () => {
  for (const seed of [1, 42, 9001]) {
    const rnd = rng(seed);
    const ours = new InoMap<number>();
    const ref = new Map<number, number>();
    // A key space of a few thousand kernfs-shaped numbers, some near 2^53: collisions, long runs and wrap-around.
    const keyOf = (r: number) => {
      const n = Math.floor(r * 6000);
      const slot = n % 3 === 0 ? 2 ** 37 - 1 - (n % 50) : Math.floor(n / 8) + 1;
      return slot * 65536 + 1 + (n % 8);
    };
    for (let step = 0; step < 60_000; step++) {
      const k = keyOf(rnd());
      const op = rnd();
      if (op < 0.45) {
        ours.set(k, step);
        ref.set(k, step);
      } else if (op < 0.8) {
        ours.delete(k);
        ref.delete(k);
      } else assert.equal(ours.get(k), ref.get(k));
      assert.equal(ours.size, ref.size);
    }
    for (const [k, v] of ref) assert.equal(ours.get(k), v, `key ${k}`);
    assert.deepEqual(
      ours.keyList().sort((a, b) => a - b),
      [...ref.keys()].sort((a, b) => a - b),
    );
    // Emptied (as drop_caches empties the inode table), every key is gone and the map works on.
    for (const k of ref.keys()) ours.delete(k);
    assert.equal(ours.size, 0);
    for (const k of ref.keys()) assert.equal(ours.get(k), undefined);
    ours.set(1, 7);
    assert.equal(ours.get(1), 7);
    assert.equal(ours.has(2), false);
  }
});
