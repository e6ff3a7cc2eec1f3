import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKernfs, type DirNode, S_IFREG, type TemplateTable } from '../../src/kernfs/index.js';
import type { Attributes, Entry } from '../../src/kernfs/vfs.js';
import { buildEvents, ctxOf, decoder, EVENT_TABLE, listAll, lookupPath, names, ROOT, throwsErrno } from './helpers.js';

describe('kernfs template directories', () => {
  it('lists table rows in table order, then child directories in creation order, hiding what callbacks refuse', () => {
    const fs = createKernfs();
    const events = buildEvents(fs, fs.root, {
      systems: [
        { name: 'sched', events: [{ name: 'sched_switch' }, { name: 'sched_wakeup' }] },
        { name: 'ftrace', events: [{ name: 'function' }] },
      ],
    });
    const sysIno = lookupPath(fs, 'events/sched');
    assert.deepEqual(names(listAll(fs, sysIno)), ['.', '..', 'enable', 'filter', 'sched_switch', 'sched_wakeup']);
    const sw = fs.lookup(sysIno, 'sched_switch', ROOT) as Entry;
    assert.deepEqual(names(listAll(fs, sw.ino)), [
      '.',
      '..',
      'enable',
      'filter',
      'trigger',
      'format',
      'id',
      'hist',
      'inject',
    ]);
    const fn = fs.lookup(lookupPath(fs, 'events/ftrace'), 'function', ROOT) as Entry;
    assert.deepEqual(names(listAll(fs, fn.ino)), ['.', '..', 'format', 'id', 'hist', 'inject']);
    throwsErrno(() => fs.lookup(fn.ino, 'enable', ROOT), 'ENOENT');
    assert.equal(events.children?.byName.size, 2);
  });

  it('materialises a file object only while the kernel holds it', () => {
    const fs = createKernfs();
    const dir = fs.createTemplateDir(fs.root, 'e', EVENT_TABLE, { system: 's', name: 'e', id: 42 });
    const d = fs.lookup(1, 'e', ROOT) as Entry;
    const before = fs.liveInodes();
    const id = fs.lookup(d.ino, 'id', ROOT) as Entry;
    assert.equal(fs.liveInodes(), before + 1);
    assert.equal(id.attr.mode, S_IFREG | 0o440);
    const o = fs.open(id.ino, 0, ROOT) as { fh: number };
    assert.equal(decoder.decode(fs.read(o.fh, 0, 100, ROOT) as Uint8Array), '42\n');
    fs.release(o.fh);
    fs.forget(id.ino, 1);
    assert.equal(fs.liveInodes(), before);
    assert.equal(dir.tplAttrs, null, 'no per-file state was allocated');
  });

  it('keeps chmod/chown of a template file across forget, in a per-directory array allocated on first change', () => {
    const fs = createKernfs();
    const a = fs.createTemplateDir(fs.root, 'a', EVENT_TABLE, { system: 's', name: 'a', id: 1 });
    const b = fs.createTemplateDir(fs.root, 'b', EVENT_TABLE, { system: 's', name: 'b', id: 2 });
    const ad = fs.lookup(1, 'a', ROOT) as Entry;
    const bd = fs.lookup(1, 'b', ROOT) as Entry;
    const en = fs.lookup(ad.ino, 'enable', ROOT) as Entry;
    assert.equal(a.tplAttrs, null);
    fs.setattr(en.ino, { mode: 0o600, uid: 7, gid: 8 }, ROOT);
    assert.equal((a.tplAttrs as unknown[] | null)?.length, EVENT_TABLE.length);
    fs.forget(en.ino, 1);
    const again = fs.lookup(ad.ino, 'enable', ROOT) as Entry;
    assert.equal(again.ino, en.ino);
    assert.deepEqual([again.attr.mode, again.attr.uid, again.attr.gid], [S_IFREG | 0o600, 7, 8]);
    // The same row in another directory of the kind is untouched, and so is another row here.
    const other = fs.lookup(bd.ino, 'enable', ROOT) as Entry;
    assert.deepEqual([other.attr.mode, other.attr.uid, other.attr.gid], [S_IFREG | 0o640, 0, 0]);
    assert.equal(b.tplAttrs, null);
    const filter = fs.lookup(ad.ino, 'filter', ROOT) as Entry;
    assert.equal(filter.attr.mode, S_IFREG | 0o640);
    // Times too.
    fs.setattr(filter.ino, { mtimeMs: 1234 }, ROOT);
    fs.forget(filter.ino, 1);
    assert.equal(((fs.lookup(ad.ino, 'filter', ROOT) as Entry).attr as Attributes).mtimeMs, 1234);
  });

  it('finds rows of a large table through the shared index, and numbers them from the directory', () => {
    const rows = Array.from({ length: 5000 }, (_, i) =>
      Object.freeze({
        name: `f${String(i).padStart(4, '0')}`,
        callback: (n: string) => (n.endsWith('7') ? null : { mode: 0o444, ops: { show: () => n } }),
      }),
    );
    const table: TemplateTable<null> = Object.freeze(rows);
    const fs = createKernfs();
    const dirs: DirNode[] = [];
    for (let i = 0; i < 3; i++) dirs.push(fs.createTemplateDir(fs.root, `d${i}`, table, null));
    const d1 = fs.lookup(1, 'd1', ROOT) as Entry;
    const e = fs.lookup(d1.ino, 'f4321', ROOT) as Entry;
    assert.equal(e.ino, d1.ino + 1 + 4321);
    throwsErrno(() => fs.lookup(d1.ino, 'f4327', ROOT), 'ENOENT');
    const listed = listAll(fs, d1.ino);
    assert.equal(listed.length, 2 + 4500);
    assert.equal(listed[2 + 4000 - 400].name.endsWith('7'), false);
    const o = fs.open(e.ino, 0, ROOT) as { fh: number };
    assert.equal(decoder.decode(fs.read(o.fh, 0, 100, ROOT) as Uint8Array), 'f4321');
    fs.release(o.fh);
  });

  it('re-asks the callback on every lookup, so files can appear and disappear', () => {
    const state = { on: false };
    const table = Object.freeze([
      Object.freeze({
        name: 'maybe',
        callback: (_n: string, d: typeof state) => (d.on ? { mode: 0o444, ops: {} } : null),
      }),
    ]);
    const fs = createKernfs();
    const dir = fs.createTemplateDir(fs.root, 'd', table, state);
    const d = fs.lookup(1, 'd', ROOT) as Entry;
    throwsErrno(() => fs.lookup(d.ino, 'maybe', ROOT), 'ENOENT');
    const changes: unknown[] = [];
    fs.onChange((c) => changes.push(c));
    state.on = true;
    fs.notifyEntry(dir, 'maybe');
    assert.deepEqual(changes, [
      { type: 'entry', parent: d.ino, name: 'maybe' },
      { type: 'inode', ino: d.ino },
    ]);
    assert.equal((fs.lookup(d.ino, 'maybe', ROOT) as Entry).attr.mode, S_IFREG | 0o444);
    assert.deepEqual(names(listAll(fs, d.ino)), ['.', '..', 'maybe']);
    state.on = false;
    throwsErrno(() => fs.lookup(d.ino, 'maybe', ROOT), 'ENOENT');
    assert.deepEqual(names(listAll(fs, d.ino)), ['.', '..']);
  });

  it('opens a file without read ops only for writing, and a file without write ops only for reading', () => {
    const fs = createKernfs();
    fs.createTemplateDir(fs.root, 'e', EVENT_TABLE, { system: 's', name: 'e', id: 1 });
    const d = fs.lookup(1, 'e', ROOT) as Entry;
    const inject = fs.lookup(d.ino, 'inject', ROOT) as Entry;
    const id = fs.lookup(d.ino, 'id', ROOT) as Entry;
    throwsErrno(() => fs.open(inject.ino, 0, ROOT), 'EACCES');
    throwsErrno(() => fs.open(id.ino, 1, ROOT), 'EACCES');
    const w = fs.open(inject.ino, 1, ctxOf(0, 0)) as { fh: number };
    assert.equal(fs.write(w.fh, 0, new Uint8Array(3), ROOT), 3);
    fs.release(w.fh);
  });
});
