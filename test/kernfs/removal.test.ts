import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKernfs, O_RDWR, O_WRONLY, type OpenedFile, POLLERR } from '../../src/kernfs/index.js';
import type { OpenResult, VfsChange } from '../../src/kernfs/vfs.js';
import { assertErrno, buildEvents, EVENT_TABLE, encoder, lookupPath, ROOT, throwsErrno } from './helpers.js';

/** Lets the microtask queue run (resolved Promises settle). */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('kernfs removal', () => {
  it('fails later ops on open files with ENODEV and releases each open exactly once', async () => {
    const fs = createKernfs();
    const dir = fs.createDir(fs.root, 'd');
    const released: unknown[] = [];
    let n = 0;
    fs.createFile(dir, 'f', {
      open: (f) => {
        f.priv = ++n;
      },
      show: () => 'x',
      write: () => undefined,
      poll: () => 0,
      release: (f) => released.push(f.priv),
    });
    const ino = lookupPath(fs, 'd/f');
    const a = fs.open(ino, O_RDWR, ROOT) as OpenResult;
    const b = fs.open(ino, 0, ROOT) as OpenResult;
    let woke = 0;
    fs.poll(b.fh, () => woke++, ROOT);
    await fs.remove(dir);
    assert.deepEqual(released, [1, 2]);
    assert.equal(woke, 1, 'pollers are woken so they see the error');
    throwsErrno(() => fs.read(a.fh, 0, 1, ROOT), 'ENODEV');
    throwsErrno(() => fs.write(a.fh, 0, encoder.encode('x'), ROOT), 'ENODEV');
    assert.ok((fs.poll(b.fh, undefined, ROOT) as number) & POLLERR);
    throwsErrno(() => fs.open(ino, 0, ROOT), 'ENODEV');
    throwsErrno(() => fs.lookup(1, 'd', ROOT), 'ENOENT');
    fs.getattr(ino, ROOT); // a held inode still answers stat
    fs.release(a.fh);
    fs.release(b.fh);
    assert.deepEqual(released, [1, 2], 'the kernel closing afterwards releases nothing twice');
  });

  it('waits for an in-flight slow write before releasing, and the removal resolves after it', async () => {
    const fs = createKernfs();
    const order: string[] = [];
    let finishWrite: (() => void) | undefined;
    const file = fs.createFile(fs.root, 'slow', {
      write: () =>
        new Promise<number | undefined>((resolve) => {
          order.push('write started');
          finishWrite = () => {
            order.push('write finished');
            resolve(undefined);
          };
        }),
      release: () => order.push('release'),
    });
    const ino = lookupPath(fs, 'slow');
    const o = fs.open(ino, O_WRONLY, ROOT) as OpenResult;
    const pending = fs.write(o.fh, 0, encoder.encode('abc'), ROOT) as Promise<number>;
    let removed = false;
    const removal = fs.remove(file).then(() => {
      removed = true;
      order.push('removed');
    });
    throwsErrno(() => fs.write(o.fh, 0, encoder.encode('x'), ROOT), 'ENODEV');
    await tick();
    assert.equal(removed, false, 'removal waits for the write in flight');
    assert.deepEqual(order, ['write started']);
    // The kernel closing meanwhile must not release early or twice.
    fs.release(o.fh);
    await tick();
    assert.deepEqual(order, ['write started']);
    finishWrite!();
    assert.equal(await pending, 3, 'the write in flight completes normally');
    await removal;
    assert.deepEqual(order, ['write started', 'write finished', 'release', 'removed']);
    assert.equal(fs.remove(file) instanceof Promise, true, 'removing again is harmless');
  });

  it('aborts the open signal so parked ops can give up, and waits for them to settle', async () => {
    const fs = createKernfs();
    let released = 0;
    const file = fs.createFile(fs.root, 'pipe', {
      stream: true,
      read: (f: OpenedFile) =>
        new Promise<string>((resolve) => f.signal.addEventListener('abort', () => setImmediate(() => resolve('')))),
      release: () => released++,
    });
    const o = fs.open(lookupPath(fs, 'pipe'), 0, ROOT) as OpenResult;
    const read = fs.read(o.fh, 0, 10, ROOT) as Promise<Uint8Array>;
    const removal = fs.remove(file);
    assert.equal(released, 0);
    assert.equal((await read).length, 0);
    await removal;
    assert.equal(released, 1);
  });

  it('removes a template directory: its looked-up files go stale, its open files are released', async () => {
    const fs = createKernfs();
    const released: string[] = [];
    const table = Object.freeze(
      EVENT_TABLE.map((row) =>
        Object.freeze({
          name: row.name,
          callback: (name: string) => ({
            mode: 0o644,
            ops: { show: () => name, release: () => released.push(name) },
          }),
        }),
      ),
    );
    const events = fs.createDir(fs.root, 'events');
    const sys = fs.createTemplateDir(events, 'sys', table, null);
    fs.createTemplateDir(sys, 'ev', table, null);
    const changes: VfsChange[] = [];
    const eventsIno = lookupPath(fs, 'events');
    const enable = lookupPath(fs, 'events/sys/ev/enable');
    const o = fs.open(enable, 0, ROOT) as OpenResult;
    const o2 = fs.open(lookupPath(fs, 'events/sys/filter'), 0, ROOT) as OpenResult;
    fs.onChange((c) => changes.push(c));
    await fs.remove(sys);
    assert.deepEqual(released.sort(), ['enable', 'filter']);
    throwsErrno(() => fs.read(o.fh, 0, 10, ROOT), 'ENODEV');
    throwsErrno(() => fs.read(o2.fh, 0, 10, ROOT), 'ENODEV');
    throwsErrno(() => fs.open(enable, 0, ROOT), 'ENODEV');
    throwsErrno(() => fs.lookup(lookupPath(fs, 'events'), 'sys', ROOT), 'ENOENT');
    assert.deepEqual(changes, [
      { type: 'entry', parent: eventsIno, name: 'sys' },
      { type: 'inode', ino: eventsIno },
    ]);
    fs.release(o.fh);
    fs.release(o2.fh);
    assert.equal(released.length, 2);
  });

  it('answers EBUSY for a busy node or a busy descendant, and EINVAL for the root', async () => {
    const fs = createKernfs();
    const inst = fs.createDir(fs.root, 'instance');
    const sub = fs.createDir(inst, 'sub');
    fs.setBusy(inst, true);
    await assertErrno(() => fs.remove(inst), 'EBUSY');
    fs.setBusy(inst, false);
    fs.setBusy(sub, true);
    await assertErrno(() => fs.remove(inst), 'EBUSY');
    fs.setBusy(sub, false);
    await fs.remove(inst);
    throwsErrno(() => fs.remove(fs.root), 'EINVAL');
  });

  it('removing the kernel-sized events tree and forgetting everything leaves only the root', async () => {
    const fs = createKernfs();
    const events = buildEvents(fs, fs.root, {
      systems: [
        { name: 'a', events: [{ name: 'x' }, { name: 'y' }] },
        { name: 'b', events: [{ name: 'z' }] },
      ],
    });
    const counted = new Map<number, number>();
    for (const path of ['events/a/x/enable', 'events/b/z/id']) {
      let ino = 1;
      for (const part of path.split('/')) {
        ino = (fs.lookup(ino, part, ROOT) as { ino: number }).ino;
        counted.set(ino, (counted.get(ino) ?? 0) + 1);
      }
    }
    assert.equal(fs.liveInodes(), 1 + 7);
    await fs.remove(events);
    assert.equal(fs.liveInodes(), 1 + 7, 'removed inodes live on while the kernel holds them');
    for (const [ino, n] of counted) fs.forget(ino, n);
    assert.equal(fs.liveInodes(), 1);
  });
});

describe('kernfs removal during a parked open', () => {
  it('fails the open with ENODEV and releases the half-opened file once', async () => {
    const fs = createKernfs();
    const released: string[] = [];
    let finishOpen: ((ok: boolean) => void) | undefined;
    const file = fs.createFile(fs.root, 'f', {
      open: (f) =>
        new Promise<void>((resolve, reject) => {
          finishOpen = (ok) => {
            f.priv = 'ready';
            if (ok) resolve();
            else reject(new Error('refused'));
          };
        }),
      show: () => '',
      release: (f) => released.push(String(f.priv)),
    });
    const ino = lookupPath(fs, 'f');
    const opening = fs.open(ino, 0, ROOT) as Promise<OpenResult>;
    const removal = fs.remove(file);
    finishOpen!(true);
    await assertErrno(() => opening, 'ENODEV');
    await removal;
    assert.deepEqual(released, ['ready']);
  });

  it('never releases an open that failed', async () => {
    const fs = createKernfs();
    const released: string[] = [];
    let finishOpen: ((ok: boolean) => void) | undefined;
    const file = fs.createFile(fs.root, 'f', {
      open: () =>
        new Promise<void>((resolve, reject) => {
          finishOpen = (ok) => (ok ? resolve() : reject(Object.assign(new Error('no'), { code: 'EAGAIN' })));
        }),
      show: () => '',
      release: () => released.push('release'),
    });
    const ino = lookupPath(fs, 'f');
    const opening = fs.open(ino, 0, ROOT) as Promise<OpenResult>;
    const removal = fs.remove(file);
    finishOpen!(false);
    await assert.rejects(opening, { code: 'EAGAIN' });
    await removal;
    assert.deepEqual(released, []);
  });
});
