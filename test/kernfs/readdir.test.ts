import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKernfs, type DirNode, type Kernfs, type SlottedNode } from '../../src/kernfs/index.js';
import type { DirEntry } from '../../src/kernfs/vfs.js';
import { rng } from '../support/random.js';
import { EVENT_TABLE, listAll, lookupPath, names, ROOT, throwsErrno } from './helpers.js';

/** Read up to `max` entries from `cookie`; returns them (the last one's `next` resumes). */
function readSome(fs: Kernfs, dh: number, cookie: number, max: number): DirEntry[] {
  const out: DirEntry[] = [];
  fs.readdir(
    dh,
    cookie,
    (e) => {
      if (out.length >= max) return false;
      out.push(e);
      return true;
    },
    ROOT,
  );
  return out;
}

describe('kernfs readdir', () => {
  it('emits . and .., then rows, then children, with increasing non-zero cookies', () => {
    const fs = createKernfs();
    const dir = fs.createTemplateDir(fs.root, 'e', EVENT_TABLE, { system: 's', name: 'e', id: 1 });
    fs.createDir(dir, 'z');
    fs.createFile(dir, 'a', {});
    const entries = listAll(fs, lookupPath(fs, 'e'));
    assert.deepEqual(names(entries), ['.', '..', ...EVENT_TABLE.map((r) => r.name), 'z', 'a']);
    for (let i = 1; i < entries.length; i++) assert.ok(entries[i].next > entries[i - 1].next);
    assert.ok(entries[0].next > 0);
    assert.equal(entries[0].ino, dir.ino);
    assert.equal(entries[1].ino, 1);
    assert.deepEqual(
      entries.slice(2).map((e) => e.kind),
      ['file', 'file', 'file', 'file', 'file', 'file', 'file', 'dir', 'file'],
    );
  });

  it('resumes at every cookie and stops where the filler is full', () => {
    const fs = createKernfs();
    const dir = fs.createTemplateDir(fs.root, 'e', EVENT_TABLE, { system: 's', name: 'e', id: 1 });
    for (let i = 0; i < 20; i++) fs.createDir(dir, `c${i}`);
    const ino = lookupPath(fs, 'e');
    const all = listAll(fs, ino);
    const dh = fs.opendir(ino, ROOT) as number;
    for (let k = 0; k < all.length; k++) {
      const cookie = k === 0 ? 0 : all[k - 1].next;
      assert.deepEqual(names(readSome(fs, dh, cookie, 1000)), names(all.slice(k)), `resume at entry ${k}`);
    }
    // One entry per call walks the same list.
    const walked: string[] = [];
    for (let cookie = 0; ; ) {
      const got = readSome(fs, dh, cookie, 1);
      if (got.length === 0) break;
      walked.push(got[0].name);
      cookie = got[0].next;
    }
    assert.deepEqual(walked, names(all));
    fs.releasedir(dh);
    throwsErrno(() => fs.readdir(dh, 0, () => true, ROOT), 'EBADF');
  });

  it('never repeats or skips entries that exist throughout, while entries come and go between calls', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const random = rng(seed);
      const fs = createKernfs();
      const dir = fs.createTemplateDir(fs.root, 'e', EVENT_TABLE, { system: 's', name: 'e', id: 1 });
      const ino = lookupPath(fs, 'e');
      const live: SlottedNode[] = [];
      let made = 0;
      const add = (): void => {
        const name = `n${made++}`;
        live.push(random() < 0.5 ? fs.createDir(dir, name) : fs.createFile(dir, name, {}));
      };
      for (let i = 0; i < 30; i++) add();
      const initial = new Set(live.map((n) => n.name));
      const removedEver = new Set<string>();
      const dh = fs.opendir(ino, ROOT) as number;
      const seen: string[] = [];
      let cookie = 0;
      for (;;) {
        const got = readSome(fs, dh, cookie, 1 + Math.floor(random() * 4));
        if (got.length === 0) break;
        for (const e of got) seen.push(e.name);
        cookie = got[got.length - 1].next;
        // Concurrent changes: remove some, add some.
        const changes = Math.floor(random() * 4);
        for (let c = 0; c < changes; c++) {
          if (random() < 0.5 && live.length > 0) {
            const victim = live.splice(Math.floor(random() * live.length), 1)[0];
            removedEver.add(victim.name);
            void fs.remove(victim);
          } else add();
        }
      }
      fs.releasedir(dh);
      assert.equal(new Set(seen).size, seen.length, `seed ${seed}: an entry appeared twice: ${seen}`);
      for (const name of ['.', '..', ...EVENT_TABLE.map((r) => r.name)]) assert.ok(seen.includes(name));
      for (const name of initial) {
        if (!removedEver.has(name)) assert.ok(seen.includes(name), `seed ${seed}: ${name} was skipped`);
      }
      for (const name of seen) {
        if (name.startsWith('n')) assert.ok(Number(name.slice(1)) < made);
      }
    }
  });

  it('resumed at every cookie after concurrent adds and removes, lists exactly the survivors after it and the new', () => {
    const build = () => {
      const fs = createKernfs();
      const dir = fs.createTemplateDir(fs.root, 'e', EVENT_TABLE, { system: 's', name: 'e', id: 1 });
      const kids: SlottedNode[] = [];
      for (let i = 0; i < 24; i++) kids.push(i % 3 ? fs.createFile(dir, `k${i}`, {}) : fs.createDir(dir, `k${i}`));
      return { fs, dir, kids, ino: lookupPath(fs, 'e') };
    };
    const full = names(listAll(build().fs, build().ino));
    for (let k = 0; k < full.length; k++) {
      const random = rng(k + 100);
      const { fs, dir, kids, ino } = build();
      const dh = fs.opendir(ino, ROOT) as number;
      const before = readSome(fs, dh, 0, k);
      const cookie = k === 0 ? 0 : before[k - 1].next;
      const removed = new Set<string>();
      for (const kid of kids) {
        if (random() < 0.3) {
          removed.add(kid.name);
          void fs.remove(kid);
        }
      }
      const added = ['new1', 'new2', 'new3'];
      for (const name of added) fs.createDir(dir, name);
      const rest = names(readSome(fs, dh, cookie, 1000));
      fs.releasedir(dh);
      const expected = [...full.slice(k).filter((n) => !removed.has(n)), ...added];
      assert.deepEqual(rest, expected, `resumed at entry ${k}`);
      for (const name of names(before)) assert.ok(!rest.includes(name), `${name} listed twice (k=${k})`);
    }
  });

  it('answers EINVAL on a handle of a removed directory, and ENOTDIR/EACCES on bad opens', async () => {
    const fs = createKernfs();
    const d: DirNode = fs.createDir(fs.root, 'd', { mode: 0o700 });
    fs.createFile(d, 'f', {});
    const ino = lookupPath(fs, 'd');
    const dh = fs.opendir(ino, ROOT) as number;
    throwsErrno(() => fs.opendir(lookupPath(fs, 'd/f'), ROOT), 'ENOTDIR');
    throwsErrno(() => fs.opendir(ino, { cred: { uid: 5, gid: 5, pid: 1, groups: [] } }), 'EACCES');
    await fs.remove(d);
    throwsErrno(() => fs.readdir(dh, 0, () => true, ROOT), 'EINVAL');
    throwsErrno(() => fs.opendir(ino, ROOT), 'ENODEV');
    fs.releasedir(dh);
  });
});
