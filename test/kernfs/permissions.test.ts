import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKernfs, type DirNode, type Kernfs, O_RDWR, O_TRUNC, O_WRONLY } from '../../src/kernfs/index.js';
import type { Attributes, Entry } from '../../src/kernfs/vfs.js';
import { buildEvents, ctxOf, EVENT_TABLE, lookupPath, ROOT, throwsErrno } from './helpers.js';

const owner = ctxOf(1000, 100);
const member = ctxOf(2000, 200, [100]); // in the file's group only through a supplementary group
const primary = ctxOf(2001, 100);
const other = ctxOf(3000, 300, [301]);

/** A file 0o640 owned by 1000:100, with read and write ops. */
function setup(mode = 0o640): { fs: Kernfs; ino: number; dir: number } {
  const fs = createKernfs({ uid: 1000, gid: 100, mode: 0o755 });
  const dir = fs.createDir(fs.root, 'd', { mode: 0o755 });
  fs.createFile(dir, 'f', { show: () => 'x', write: () => undefined }, { mode });
  const dirIno = lookupPath(fs, 'd');
  return { fs, ino: (fs.lookup(dirIno, 'f', ROOT) as Entry).ino, dir: dirIno };
}

function canOpen(fs: Kernfs, ino: number, flags: number, ctx: ReturnType<typeof ctxOf>): boolean {
  try {
    const r = fs.open(ino, flags, ctx) as { fh: number };
    fs.release(r.fh);
    return true;
  } catch {
    return false;
  }
}

describe('kernfs permission checks', () => {
  it('applies owner, group (primary and supplementary), other and root classes', () => {
    const { fs, ino } = setup(0o640);
    assert.equal(canOpen(fs, ino, O_RDWR, owner), true);
    assert.equal(canOpen(fs, ino, 0, primary), true);
    assert.equal(canOpen(fs, ino, 0, member), true);
    assert.equal(canOpen(fs, ino, O_WRONLY, member), false);
    assert.equal(canOpen(fs, ino, 0, other), false);
    assert.equal(canOpen(fs, ino, O_RDWR, ROOT), true);
    throwsErrno(() => fs.open(ino, 0, other), 'EACCES');
    // O_TRUNC needs write permission even with O_RDONLY.
    assert.equal(canOpen(fs, ino, O_TRUNC, primary), false);
    assert.equal(canOpen(fs, ino, O_TRUNC, owner), true);
    fs.access(ino, 4, member);
    throwsErrno(() => fs.access(ino, 2, member), 'EACCES');
    fs.access(ino, 0, other);
  });

  it('does not let the group bits rescue an owner the owner bits deny', () => {
    const { fs, ino } = setup(0o060);
    assert.equal(canOpen(fs, ino, 0, owner), false);
    assert.equal(canOpen(fs, ino, 0, primary), true);
  });

  it('lets root read and write anything, but execute only what someone may execute', () => {
    const { fs, ino, dir } = setup(0o000);
    assert.equal(canOpen(fs, ino, O_RDWR, ROOT), true);
    throwsErrno(() => fs.access(ino, 1, ROOT), 'EACCES');
    fs.setattr(ino, { mode: 0o010 }, ROOT);
    fs.access(ino, 1, ROOT);
    fs.setattr(dir, { mode: 0o000 }, ROOT);
    fs.access(dir, 1, ROOT);
    throwsErrno(() => fs.lookup(dir, 'f', owner), 'EACCES');
    fs.lookup(dir, 'f', ROOT);
  });

  it('needs search permission on a directory to look up and read permission to list it', () => {
    const { fs, dir } = setup();
    fs.setattr(dir, { mode: 0o711 }, ROOT);
    fs.lookup(dir, 'f', other);
    throwsErrno(() => fs.opendir(dir, other), 'EACCES');
    fs.setattr(dir, { mode: 0o744 }, ROOT);
    throwsErrno(() => fs.lookup(dir, 'f', other), 'EACCES');
    fs.releasedir(fs.opendir(dir, other) as number);
  });

  it('allows chmod to the owner and root, chown to root, chgrp to an owner in the new group', () => {
    const { fs, ino } = setup();
    throwsErrno(() => fs.setattr(ino, { mode: 0o777 }, other), 'EPERM');
    assert.equal((fs.setattr(ino, { mode: 0o600 }, owner) as Attributes).mode & 0o7777, 0o600);
    throwsErrno(() => fs.setattr(ino, { uid: 2000 }, owner), 'EPERM');
    fs.setattr(ino, { uid: 1000 }, owner); // chown to oneself is a no-op the owner may do
    throwsErrno(() => fs.setattr(ino, { gid: 300 }, owner), 'EPERM');
    const owner2 = ctxOf(1000, 100, [300]);
    assert.equal((fs.setattr(ino, { gid: 300 }, owner2) as Attributes).gid, 300);
    assert.equal((fs.setattr(ino, { uid: 5, gid: 6 }, ROOT) as Attributes).uid, 5);
    // Times: explicit values need ownership; "now" needs only write permission.
    throwsErrno(() => fs.setattr(ino, { mtimeMs: 5 }, other), 'EPERM');
    fs.setattr(ino, { mode: 0o666 }, ROOT);
    fs.setattr(ino, { atimeMs: 'now', mtimeMs: 'now' }, other);
    // Truncation is accepted (it changes nothing in a generated file) with write permission.
    fs.setattr(ino, { size: 0 }, other);
    fs.setattr(ino, { mode: 0o644 }, ROOT);
    throwsErrno(() => fs.setattr(ino, { size: 0 }, other), 'EACCES');
  });
});

describe('kernfs ownership policy', () => {
  it('by default, nodes follow their nearest explicitly owned ancestor, lazily', () => {
    const fs = createKernfs({ uid: 1, gid: 2 });
    buildEvents(fs, fs.root, { systems: [{ name: 'sched', events: [{ name: 'sched_switch' }] }] });
    const enable = lookupPath(fs, 'events/sched/sched_switch/enable');
    assert.deepEqual(pick(fs.getattr(enable, ROOT) as Attributes), [1, 2]);
    fs.setattr(lookupPath(fs, 'events'), { uid: 10, gid: 20 }, ROOT);
    assert.deepEqual(pick(fs.getattr(enable, ROOT) as Attributes), [10, 20]);
    fs.setattr(enable, { gid: 30 }, ROOT);
    assert.deepEqual(pick(fs.getattr(enable, ROOT) as Attributes), [10, 30]);
  });

  it('expresses tracefs rules: files follow the root unless changed, eventfs follows its events directory', () => {
    let events: DirNode | undefined;
    const fs = createKernfs({
      uid: 0,
      gid: 0,
      ownership: (node, owners) => {
        for (let n = node.parent; n; n = n.parent) if (n === events) return owners.ownerOf(events);
        return owners.ownerOf(fs.root);
      },
    });
    const tracing = fs.createDir(fs.root, 'instances');
    fs.createFile(tracing, 'trace', { show: () => '' });
    events = buildEvents(fs, fs.root, { systems: [{ name: 'sched', events: [{ name: 'sched_switch' }] }] });
    const trace = lookupPath(fs, 'instances/trace');
    const enable = lookupPath(fs, 'events/sched/sched_switch/enable');
    fs.setattr(lookupPath(fs, 'instances'), { gid: 55 }, ROOT);
    assert.equal((fs.getattr(trace, ROOT) as Attributes).gid, 0, 'a parent change does not propagate in tracefs');
    fs.setattr(1, { gid: 66 }, ROOT);
    assert.equal((fs.getattr(trace, ROOT) as Attributes).gid, 66, 'files follow the root');
    assert.equal((fs.getattr(enable, ROOT) as Attributes).gid, 66);
    fs.setattr(lookupPath(fs, 'events'), { gid: 77 }, ROOT);
    assert.equal((fs.getattr(enable, ROOT) as Attributes).gid, 77, 'eventfs follows events/');
    assert.equal((fs.getattr(lookupPath(fs, 'events/sched'), ROOT) as Attributes).gid, 77);
  });

  it('resets every explicit gid (remount gid=) without visiting nodes, keeping explicit uids and modes', () => {
    const fs = createKernfs({ uid: 0, gid: 0 });
    const dir = fs.createTemplateDir(fs.root, 'e', EVENT_TABLE, { system: 's', name: 'e', id: 1 });
    const sub = fs.createDir(dir, 'sub');
    const e = lookupPath(fs, 'e');
    const enable = lookupPath(fs, 'e/enable');
    const s = lookupPath(fs, 'e/sub');
    fs.setattr(enable, { uid: 5, gid: 6, mode: 0o600 }, ROOT);
    fs.setattr(s, { gid: 7 }, ROOT);
    fs.setattr(1, { gid: 8 }, ROOT);
    fs.forget(enable, 1); // the template file's change must survive forget, and its reset too
    const changes: unknown[] = [];
    fs.onChange((c) => changes.push(c));
    fs.resetOwnership({ gid: 1234 });
    const en = fs.lookup(e, 'enable', ROOT) as Entry;
    assert.deepEqual([en.attr.uid, en.attr.gid, en.attr.mode & 0o777], [5, 1234, 0o600]);
    assert.equal((fs.getattr(s, ROOT) as Attributes).gid, 1234);
    assert.equal((fs.getattr(1, ROOT) as Attributes).gid, 1234);
    assert.equal(fs.ownerOf(sub).gid, 1234);
    assert.ok(changes.some((c) => JSON.stringify(c) === JSON.stringify({ type: 'inode', ino: s })));
    // Explicit gids set after the reset count again.
    fs.setattr(s, { gid: 9 }, ROOT);
    assert.equal((fs.getattr(s, ROOT) as Attributes).gid, 9);
    fs.resetOwnership({ uid: 42 });
    assert.deepEqual(pick(fs.getattr(s, ROOT) as Attributes), [42, 9]);
    assert.deepEqual(pick(fs.getattr(en.ino, ROOT) as Attributes), [42, 1234]);
  });
});

function pick(a: Attributes): [number, number] {
  return [a.uid, a.gid];
}
