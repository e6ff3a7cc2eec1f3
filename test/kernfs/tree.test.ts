import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKernfs, type DirNode, type Kernfs, S_IFDIR, S_IFLNK, S_IFREG } from '../../src/kernfs/index.js';
import type { Entry } from '../../src/kernfs/vfs.js';
import {
  buildEvents,
  EVENT_TABLE,
  kernelSpec,
  listAll,
  lookupPath,
  names,
  ROOT,
  SYSTEM_TABLE,
  throwsErrno,
} from './helpers.js';

/** Look up everything reachable (depth first), returning ino → path; each name looked up exactly once. */
function lookupEverything(fs: Kernfs): Map<number, string> {
  const seen = new Map<number, string>([[1, '/']]);
  const walk = (ino: number, path: string): void => {
    for (const e of listAll(fs, ino)) {
      if (e.name === '.' || e.name === '..') continue;
      const entry = fs.lookup(ino, e.name, ROOT) as Entry;
      assert.equal(entry.ino, e.ino, `readdir and lookup agree on ${path}${e.name}`);
      const other = seen.get(entry.ino);
      assert.equal(other, undefined, `inode ${entry.ino} of ${path}${e.name} already used by ${other}`);
      seen.set(entry.ino, `${path}${e.name}`);
      if (entry.attr.kind === 'dir') walk(entry.ino, `${path}${e.name}/`);
    }
  };
  walk(1, '/');
  return seen;
}

function forgetAll(fs: Kernfs, inos: Iterable<number>): void {
  for (const ino of inos) if (ino !== 1) fs.forget(ino, 1);
}

describe('kernfs tree', () => {
  it('builds dirs, files and symlinks with modes, and serves them through the VFS face', () => {
    const fs = createKernfs({ uid: 10, gid: 20, mode: 0o700 });
    const d = fs.createDir(fs.root, 'dir', { mode: 0o750, priv: 'p' });
    fs.createFile(d, 'file', { show: () => 'x' }, { mode: 0o604 });
    fs.createSymlink(fs.root, 'link', 'dir/file');
    const root = fs.getattr(1, ROOT) as { mode: number; uid: number; gid: number; nlink: number };
    assert.deepEqual([root.mode, root.uid, root.gid, root.nlink], [S_IFDIR | 0o700, 10, 20, 3]);
    const dir = fs.lookup(1, 'dir', ROOT) as Entry;
    assert.equal(dir.attr.mode, S_IFDIR | 0o750);
    assert.equal(d.priv, 'p');
    const file = fs.lookup(dir.ino, 'file', ROOT) as Entry;
    assert.equal(file.attr.mode, S_IFREG | 0o604);
    assert.equal(file.attr.kind, 'file');
    const link = fs.lookup(1, 'link', ROOT) as Entry;
    assert.equal(link.attr.mode, S_IFLNK | 0o777);
    assert.equal(link.attr.size, 'dir/file'.length);
    assert.equal(fs.readlink(link.ino, ROOT), 'dir/file');
    throwsErrno(() => fs.readlink(file.ino, ROOT), 'EINVAL');
    throwsErrno(() => fs.lookup(1, 'nope', ROOT), 'ENOENT');
    throwsErrno(() => fs.lookup(file.ino, 'x', ROOT), 'ENOTDIR');
    throwsErrno(() => fs.getattr(999_999, ROOT), 'ESTALE');
    assert.deepEqual(names(listAll(fs, 1)), ['.', '..', 'dir', 'link']);
  });

  it('rejects bad names, duplicates and children of removed directories', async () => {
    const fs = createKernfs();
    const d = fs.createDir(fs.root, 'a');
    throwsErrno(() => fs.createDir(fs.root, 'a'), 'EEXIST');
    for (const bad of ['', '.', '..', 'x/y', 'nul\0']) throwsErrno(() => fs.createDir(fs.root, bad), 'EINVAL');
    throwsErrno(() => fs.createDir(fs.root, 'n'.repeat(256)), 'ENAMETOOLONG');
    const t = fs.createTemplateDir(fs.root, 'ev', EVENT_TABLE, { system: 's', name: 'e', id: 1 });
    throwsErrno(() => fs.createFile(t, 'enable', {}), 'EEXIST');
    await fs.remove(d);
    throwsErrno(() => fs.createDir(d, 'b'), 'ENOENT');
    assert.throws(() => fs.createTemplateDir(fs.root, 'bad', [] as never, {}), TypeError);
    const dup = Object.freeze([EVENT_TABLE[0], EVENT_TABLE[0]]);
    assert.throws(() => fs.createTemplateDir(fs.root, 'dup', dup, { system: 's', name: 'e', id: 1 }), TypeError);
  });

  it('directory nlink counts subdirectories', async () => {
    const fs = createKernfs();
    const a = fs.createDir(fs.root, 'a');
    fs.createDir(a, 'b');
    const c = fs.createDir(a, 'c');
    fs.createFile(a, 'f', {});
    const e = fs.lookup(1, 'a', ROOT) as Entry;
    assert.equal(e.attr.nlink, 4);
    await fs.remove(c);
    assert.equal((fs.getattr(e.ino, ROOT) as { nlink: number }).nlink, 3);
  });

  it('inode numbers are unique across the kernel-sized tree and equal before and after forget', () => {
    const fs = createKernfs();
    const spec = kernelSpec();
    buildEvents(fs, fs.root, spec);
    const start = fs.liveInodes();
    const first = lookupEverything(fs);
    const eventCount = spec.systems.reduce((n, s) => n + s.events.length, 0);
    const ftraceEvents = spec.systems.find((s) => s.name === 'ftrace')?.events.length ?? 0;
    // root + events + systems (dir + 2 files) + events (dir + 7 files, ftrace's without 3)
    const expected = 2 + spec.systems.length * 3 + eventCount * 8 - ftraceEvents * 3;
    assert.equal(first.size, expected);
    assert.equal(fs.liveInodes(), expected);
    for (const ino of first.keys()) assert.ok(Number.isSafeInteger(ino) && ino > 0);
    forgetAll(fs, first.keys());
    assert.equal(fs.liveInodes(), start, 'forgetting everything drops every inode object');
    const second = lookupEverything(fs);
    assert.deepEqual([...second.entries()].sort(), [...first.entries()].sort());
    forgetAll(fs, second.keys());
    assert.equal(fs.liveInodes(), start);
  });

  it('keeps an inode until its lookup count reaches zero, and generations identify reuse', () => {
    const fs = createKernfs();
    const dir = fs.createTemplateDir(fs.root, 'ev', EVENT_TABLE, { system: 's', name: 'e', id: 7 });
    const d = fs.lookup(1, 'ev', ROOT) as Entry;
    assert.equal(d.generation, 1);
    const a = fs.lookup(d.ino, 'id', ROOT) as Entry;
    const b = fs.lookup(d.ino, 'id', ROOT) as Entry;
    assert.equal(a.ino, b.ino);
    assert.equal(a.generation, dir.generation);
    const live = fs.liveInodes();
    fs.forget(a.ino, 1);
    assert.equal(fs.liveInodes(), live);
    fs.getattr(a.ino, ROOT);
    fs.forget(a.ino, 1);
    assert.equal(fs.liveInodes(), live - 1);
    throwsErrno(() => fs.getattr(a.ino, ROOT), 'ESTALE');
    fs.forget(a.ino, 5); // unknown: ignored
    fs.forget(1, 100); // the root is never dropped
    assert.equal(fs.liveInodes(), live - 1);
    fs.getattr(1, ROOT);
  });

  it('reuses inode slots only after a wrap, with a new generation, never while live', async () => {
    const fs = createKernfs({ slotLimit: 6 });
    const dirs: DirNode[] = [];
    for (let i = 0; i < 5; i++) dirs.push(fs.createDir(fs.root, `d${i}`));
    assert.deepEqual(
      dirs.map((d) => d.generation),
      [1, 1, 1, 1, 1],
    );
    throwsErrno(() => fs.createDir(fs.root, 'full'), 'ENOSPC');
    // d1 is removed but the kernel still holds it; d2 is removed and unknown; d3 is only open as a dir.
    const held = fs.lookup(1, 'd1', ROOT) as Entry;
    const d3 = fs.lookup(1, 'd3', ROOT) as Entry;
    const dh = fs.opendir(d3.ino, ROOT) as number;
    fs.forget(d3.ino, 1);
    await fs.remove(dirs[1]);
    await fs.remove(dirs[2]);
    await fs.remove(dirs[3]);
    const n = fs.createDir(fs.root, 'new');
    assert.ok(n.generation > dirs[0].generation, 'a wrap bumps the generation');
    assert.equal(n.ino, dirs[2].ino, 'the only free slot is the removed, forgotten one');
    throwsErrno(() => fs.createDir(fs.root, 'more'), 'ENOSPC');
    fs.forget(held.ino, 1);
    fs.releasedir(dh);
    const m = fs.createDir(fs.root, 'more');
    assert.ok(m.ino === dirs[1].ino || m.ino === dirs[3].ino);
  });

  it('resolves paths and children of object nodes', () => {
    const fs = createKernfs();
    const events = buildEvents(fs, fs.root, { systems: [{ name: 'sched', events: [{ name: 'sched_switch' }] }] });
    const ev = fs.resolve('events/sched/sched_switch');
    assert.ok(ev);
    assert.equal(fs.resolve('events/sched/../sched/sched_switch'), ev);
    assert.equal(fs.resolve('events/sched/sched_switch/enable'), undefined, 'template files are not objects');
    assert.equal(fs.child(events, 'sched'), fs.resolve('events/sched'));
    assert.equal((ev as DirNode).table, EVENT_TABLE);
    assert.equal((fs.resolve('events/sched') as DirNode).table, SYSTEM_TABLE);
    assert.equal(lookupPath(fs, 'events/sched/sched_switch'), ev.ino);
  });
});

describe('kernfs tree-side changes', () => {
  it('setMode/setOwner change attributes and notify a held inode', () => {
    const fs = createKernfs();
    const d = fs.createDir(fs.root, 'd');
    const ino = lookupPath(fs, 'd');
    const changes: unknown[] = [];
    fs.onChange((c) => changes.push(c));
    fs.setMode(d, 0o700);
    fs.setOwner(d, { gid: 12 });
    const a = fs.getattr(ino, ROOT) as { mode: number; uid: number; gid: number };
    assert.deepEqual([a.mode, a.uid, a.gid], [S_IFDIR | 0o700, 0, 12]);
    assert.deepEqual(changes, [
      { type: 'inode', ino },
      { type: 'inode', ino },
    ]);
  });

  it('move renames and reparents a node, keeping its inode, and refuses loops and taken names', () => {
    const fs = createKernfs();
    const a = fs.createDir(fs.root, 'a');
    const b = fs.createDir(fs.root, 'b');
    const x = fs.createDir(a, 'x');
    fs.createDir(b, 'taken');
    const ino = x.ino;
    fs.move(x, b, 'y');
    assert.equal(fs.resolve('b/y'), x);
    assert.equal(fs.resolve('a/x'), undefined);
    assert.equal(lookupPath(fs, 'b/y'), ino);
    assert.deepEqual(names(listAll(fs, lookupPath(fs, 'b'))), ['.', '..', 'taken', 'y']);
    throwsErrno(() => fs.move(x, b, 'taken'), 'EEXIST');
    throwsErrno(() => fs.move(b, x, 'loop'), 'EINVAL');
    assert.equal((fs.getattr(lookupPath(fs, 'a'), ROOT) as { nlink: number }).nlink, 2);
  });

  it('answers lookups of . and .. with counted references', () => {
    const fs = createKernfs();
    fs.createDir(fs.root, 'd');
    const d = lookupPath(fs, 'd');
    assert.equal((fs.lookup(d, '.', ROOT) as Entry).ino, d);
    assert.equal((fs.lookup(d, '..', ROOT) as Entry).ino, 1);
    fs.forget(d, 2);
    assert.equal(fs.liveInodes(), 1);
  });
});

describe('kernfs timestamps', () => {
  it('reports the mount time until a change, then what was set (ctime follows every change)', () => {
    let clock = 1000;
    const fs = createKernfs({ now: () => clock });
    fs.createFile(fs.root, 'f', { show: () => '' });
    const ino = lookupPath(fs, 'f');
    const times = () => {
      const a = fs.getattr(ino, ROOT) as { atimeMs: number; mtimeMs: number; ctimeMs: number };
      return [a.atimeMs, a.mtimeMs, a.ctimeMs];
    };
    clock = 2000;
    assert.deepEqual(times(), [1000, 1000, 1000]);
    fs.setattr(ino, { mode: 0o600 }, ROOT);
    assert.deepEqual(times(), [1000, 1000, 2000]);
    clock = 3000;
    fs.setattr(ino, { atimeMs: 5, mtimeMs: 'now' }, ROOT);
    assert.deepEqual(times(), [5, 3000, 3000]);
    clock = 4000;
    fs.setattr(ino, { size: 0 }, ROOT);
    assert.deepEqual(times(), [5, 3000, 3000], 'truncating a generated file changes nothing');
  });
});
