import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createKernfs,
  type FileOps,
  type Kernfs,
  O_RDWR,
  O_TRUNC,
  O_WRONLY,
  type OpenedFile,
  POLLIN,
} from '../../src/kernfs/index.js';
import type { OpenResult, VfsChange } from '../../src/kernfs/vfs.js';
import { assertErrno, ctxOf, decoder, EVENT_TABLE, encoder, lookupPath, ROOT, throwsErrno } from './helpers.js';

function fileWith(ops: FileOps, mode = 0o666): { fs: Kernfs; ino: number } {
  const fs = createKernfs();
  fs.createFile(fs.root, 'f', ops, { mode });
  return { fs, ino: lookupPath(fs, 'f') };
}

function text(data: unknown): string {
  return decoder.decode(data as Uint8Array);
}

describe('kernfs file ops', () => {
  it('show: generates the whole content on the first read, serves it by offset, regenerates at offset 0', () => {
    let generation = 0;
    const { fs, ino } = fileWith({ show: () => `content ${++generation} ${'x'.repeat(20)}` });
    const o = fs.open(ino, 0, ROOT) as OpenResult;
    assert.equal(generation, 0, 'nothing generated at open');
    assert.deepEqual([o.directIo, o.stream, o.pollable], [true, false, false]);
    assert.equal(text(fs.read(o.fh, 0, 9, ROOT)), 'content 1');
    assert.equal(text(fs.read(o.fh, 9, 4, ROOT)), ' xxx');
    assert.equal(text(fs.read(o.fh, 1000, 4, ROOT)), '');
    assert.equal(generation, 1);
    assert.equal(text(fs.read(o.fh, 0, 9, ROOT)), 'content 2');
    const o2 = fs.open(ino, 0, ROOT) as OpenResult;
    assert.equal(text(fs.read(o2.fh, 8, 1, ROOT)), '3', 'each open has its own content');
    assert.equal(text(fs.read(o.fh, 8, 1, ROOT)), '2');
    fs.release(o.fh);
    fs.release(o2.fh);
  });

  it('read: passes offset and size through and clips an oversized answer', () => {
    const calls: [number, number][] = [];
    const { fs, ino } = fileWith({
      read: (_f, off, size) => {
        calls.push([off, size]);
        return 'abcdefghij'.slice(off, off + size + 3);
      },
    });
    const o = fs.open(ino, 0, ROOT) as OpenResult;
    assert.equal(text(fs.read(o.fh, 2, 3, ROOT)), 'cde');
    assert.deepEqual(calls, [[2, 3]]);
    throwsErrno(() => fs.read(o.fh, -1, 3, ROOT), 'EINVAL');
    throwsErrno(() => fs.write(o.fh, 0, encoder.encode('x'), ROOT), 'EBADF');
    fs.release(o.fh);
    throwsErrno(() => fs.read(o.fh, 0, 3, ROOT), 'EBADF');
  });

  it('write: E2BIG above the atomic write length, full count unless short writes are declared', () => {
    const got: string[] = [];
    const { fs, ino } = fileWith({
      write: (_f, data, off) => {
        got.push(`${off}:${decoder.decode(data)}`);
        return 1;
      },
      atomicWriteLen: 8,
      show: () => '',
    });
    const o = fs.open(ino, O_RDWR, ROOT) as OpenResult;
    assert.equal(
      fs.write(o.fh, 5, encoder.encode('12345678'), ROOT),
      8,
      'a count from an op without shortWrites is ignored',
    );
    throwsErrno(() => fs.write(o.fh, 0, encoder.encode('123456789'), ROOT), 'E2BIG');
    assert.deepEqual(got, ['5:12345678']);
    fs.release(o.fh);

    // set_event style: one token per write, the writer sees the short count.
    const tokens: string[] = [];
    const { fs: fs2, ino: ino2 } = fileWith({
      shortWrites: true,
      write: (_f, data) => {
        const s = decoder.decode(data);
        const m = /^\s*(\S+)\s?/.exec(s);
        if (!m) return data.length;
        tokens.push(m[1]);
        return m[0].length;
      },
    });
    const w = fs2.open(ino2, O_WRONLY, ROOT) as OpenResult;
    let data = encoder.encode('sched:sched_switch irq:*\n');
    let offset = 0;
    while (data.length > 0) {
      const n = fs2.write(w.fh, offset, data, ROOT) as number;
      assert.ok(n > 0 && n <= data.length);
      offset += n;
      data = data.subarray(n);
    }
    assert.deepEqual(tokens, ['sched:sched_switch', 'irq:*']);
    fs2.release(w.fh);
  });

  it('open/release: the op sees flags (O_TRUNC), per-open priv, and release runs once per successful open', () => {
    const events: string[] = [];
    let opens = 0;
    const { fs, ino } = fileWith({
      open: (f: OpenedFile) => {
        if (f.cred.uid === 99) throw new Error('refused');
        f.priv = ++opens;
        events.push(`open ${f.flags & O_TRUNC ? 'trunc' : 'keep'} ${f.priv}`);
      },
      show: (f) => `priv ${f.priv}`,
      write: (f) => {
        events.push(`write ${f.priv}`);
        return undefined;
      },
      release: (f) => events.push(`release ${f.priv}`),
    });
    const a = fs.open(ino, O_WRONLY | O_TRUNC, ROOT) as OpenResult;
    const b = fs.open(ino, 0, ROOT) as OpenResult;
    assert.equal(text(fs.read(b.fh, 0, 100, ROOT)), 'priv 2');
    fs.write(a.fh, 0, encoder.encode('x'), ROOT);
    assert.throws(() => fs.open(ino, 0, ctxOf(99, 99)), /refused/);
    fs.release(a.fh);
    fs.release(a.fh);
    fs.release(b.fh);
    assert.deepEqual(events, ['open trunc 1', 'open keep 2', 'write 1', 'release 1', 'release 2']);
  });

  it('parks Promise-returning ops, and answers EINTR when the caller is interrupted', async () => {
    let resolveRead: ((s: string) => void) | undefined;
    let opSignal: AbortSignal | undefined;
    const { fs, ino } = fileWith({
      stream: true,
      read: (_f, _o, _s, ctx) => {
        opSignal = ctx.signal;
        return new Promise<string>((resolve) => {
          resolveRead = resolve;
        });
      },
    });
    const o = fs.open(ino, 0, ROOT) as OpenResult;
    assert.equal(o.stream, true);
    const first = fs.read(o.fh, 0, 10, ROOT);
    assert.ok(first instanceof Promise);
    resolveRead!('hello');
    assert.equal(text(await first), 'hello');

    const ac = new AbortController();
    const parked = fs.read(o.fh, 0, 10, ctxOf(0, 0, [], ac.signal));
    assert.equal(opSignal, ac.signal, 'the op sees the request signal');
    ac.abort();
    await assertErrno(() => parked, 'EINTR');
    resolveRead!('late'); // the op finishing later does no harm
    fs.release(o.fh);
  });

  it('poll: answers readiness, keeps the latest wake, and calls it once on wake/notify', () => {
    let ready = 0;
    const { fs, ino } = fileWith({ show: () => '', poll: () => ready });
    const o = fs.open(ino, 0, ROOT) as OpenResult;
    assert.equal(o.pollable, true);
    const woke: string[] = [];
    assert.equal(
      fs.poll(o.fh, () => woke.push('first'), ROOT),
      0,
    );
    assert.equal(
      fs.poll(o.fh, () => woke.push('second'), ROOT),
      0,
    );
    ready = POLLIN;
    fs.wake(fs.resolve('f')!);
    fs.wake(fs.resolve('f')!);
    assert.deepEqual(woke, ['second']);
    assert.equal(
      fs.poll(o.fh, () => woke.push('third'), ROOT),
      POLLIN,
    );
    fs.notify(fs.resolve('f')!);
    assert.deepEqual(woke, ['second', 'third']);
    // A file's own wake() (what an op or tracefs calls on an open file).
    let opened: OpenedFile | undefined;
    const { fs: fs2, ino: ino2 } = fileWith({
      open: (f) => {
        opened = f;
      },
      show: () => '',
      poll: () => 0,
    });
    const p = fs2.open(ino2, 0, ROOT) as OpenResult;
    fs2.poll(p.fh, () => woke.push('own'), ROOT);
    opened!.wake();
    assert.deepEqual(woke, ['second', 'third', 'own']);
    fs2.release(p.fh);
    fs.release(o.fh);
    const { fs: fs3, ino: ino3 } = fileWith({ show: () => '' });
    const q = fs3.open(ino3, 0, ROOT) as OpenResult;
    throwsErrno(() => fs3.poll(q.fh, undefined, ROOT), 'ENOSYS');
  });

  it('aborts the open signal at release', () => {
    let file: OpenedFile | undefined;
    const { fs, ino } = fileWith({
      open: (f) => {
        file = f;
      },
      show: () => '',
    });
    const o = fs.open(ino, 0, ROOT) as OpenResult;
    const signal = file!.signal;
    assert.equal(signal.aborted, false);
    fs.release(o.fh);
    assert.equal(signal.aborted, true);
  });

  it('refuses to open directories and stale handles', () => {
    const { fs } = fileWith({});
    throwsErrno(() => fs.open(1, 0, ROOT), 'EISDIR');
    throwsErrno(() => fs.read(12345, 0, 1, ROOT), 'EBADF');
    throwsErrno(() => fs.write(12345, 0, new Uint8Array(1), ROOT), 'EBADF');
    throwsErrno(() => fs.poll(12345, undefined, ROOT), 'EBADF');
    fs.release(12345);
  });
});

describe('kernfs notification', () => {
  it('reports changes only for inodes the kernel knows, and entries under known directories', () => {
    const fs = createKernfs();
    const known = fs.createDir(fs.root, 'known');
    const unknown = fs.createDir(fs.root, 'unknown');
    const ev = fs.createTemplateDir(known, 'ev', EVENT_TABLE, { system: 's', name: 'e', id: 1 });
    const knownIno = lookupPath(fs, 'known');
    const changes: VfsChange[] = [];
    const off = fs.onChange((c) => changes.push(c));
    fs.notify(unknown);
    fs.notify(ev);
    fs.notifyTemplateFile(ev, 'enable');
    fs.createDir(unknown, 'x');
    assert.deepEqual(changes, []);
    fs.createDir(known, 'y');
    assert.deepEqual(changes, [
      { type: 'entry', parent: knownIno, name: 'y' },
      { type: 'inode', ino: knownIno },
    ]);
    changes.length = 0;
    const evIno = lookupPath(fs, 'known/ev');
    const enable = lookupPath(fs, 'known/ev/enable');
    fs.notify(ev);
    fs.notifyTemplateFile(ev, 'enable');
    fs.notifyTemplateFile(ev, 'filter'); // not looked up: nothing
    assert.deepEqual(changes, [
      { type: 'inode', ino: evIno },
      { type: 'inode', ino: enable },
    ]);
    changes.length = 0;
    fs.forget(enable, 1);
    fs.notifyTemplateFile(ev, 'enable');
    assert.deepEqual(changes, []);
    throwsErrno(() => fs.notifyTemplateFile(ev, 'nope'), 'ENOENT');
    off();
    fs.notify(ev);
    assert.deepEqual(changes, []);
  });
});
