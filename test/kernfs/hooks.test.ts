import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKernfs, type DirNode, type Kernfs, S_IFDIR } from '../../src/kernfs/index.js';
import type { Entry } from '../../src/kernfs/vfs.js';
import { assertErrno, ctxOf, listAll, lookupPath, names, ROOT, throwsErrno } from './helpers.js';

/** tracefs-like: mkdir/rmdir only under instances/, instances busy while something holds them. */
function instancesTree(): { fs: Kernfs; instances: DirNode } {
  let instances: DirNode | undefined;
  const fs: Kernfs = createKernfs({
    hooks: {
      mkdir(parent, name, mode) {
        if (parent !== instances) throw Object.assign(new Error('not here'), { code: 'EPERM' });
        const dir = fs.createDir(parent, name, { mode });
        fs.createFile(dir, 'trace', { show: () => `instance ${name}\n` });
        return dir;
      },
      async rmdir(node) {
        if (node.parent !== instances) throw Object.assign(new Error('not here'), { code: 'EPERM' });
        await fs.remove(node);
      },
      rename(node, newParent, newName) {
        if (node.parent !== instances || newParent !== instances)
          throw Object.assign(new Error('no'), { code: 'EXDEV' });
        fs.move(node, newParent, newName);
      },
    },
  });
  instances = fs.createDir(fs.root, 'instances');
  fs.createDir(fs.root, 'other');
  return { fs, instances };
}

describe('kernfs syscall hooks', () => {
  it('mkdir goes through the hook, after existence and permission checks', async () => {
    const { fs } = instancesTree();
    const inst = lookupPath(fs, 'instances');
    const e = (await fs.mkdir(inst, 'foo', 0o750, ROOT)) as Entry;
    assert.equal(e.attr.mode, S_IFDIR | 0o750);
    assert.equal((fs.lookup(e.ino, 'trace', ROOT) as Entry).attr.kind, 'file');
    assert.deepEqual(names(listAll(fs, inst)), ['.', '..', 'foo']);
    await assertErrno(() => fs.mkdir(inst, 'foo', 0o755, ROOT), 'EEXIST');
    await assertErrno(() => fs.mkdir(inst, 'bar', 0o755, ctxOf(1000, 1000)), 'EACCES');
    await assert.rejects(async () => fs.mkdir(lookupPath(fs, 'other'), 'x', 0o755, ROOT), { code: 'EPERM' });
    const before = fs.liveInodes();
    fs.forget(e.ino, 1);
    assert.equal(fs.liveInodes(), before - 1, 'mkdir counted exactly one lookup');
  });

  it('rmdir goes through the hook; busy instances answer EBUSY', async () => {
    const { fs, instances } = instancesTree();
    const inst = lookupPath(fs, 'instances');
    await fs.mkdir(inst, 'a', 0o755, ROOT);
    await fs.mkdir(inst, 'b', 0o755, ROOT);
    fs.setBusy(fs.child(instances, 'b')!, true);
    await assertErrno(() => fs.rmdir(inst, 'b', ROOT), 'EBUSY');
    await fs.rmdir(inst, 'a', ROOT);
    assert.deepEqual(names(listAll(fs, inst)), ['.', '..', 'b']);
    await assertErrno(() => fs.rmdir(inst, 'a', ROOT), 'ENOENT');
    await assertErrno(() => fs.rmdir(1, 'instances', ctxOf(1000, 1000)), 'EACCES');
    fs.createFile(instances, 'file', {});
    await assertErrno(() => fs.rmdir(inst, 'file', ROOT), 'ENOTDIR');
  });

  it('rename goes through the hook, which moves the node', async () => {
    const { fs } = instancesTree();
    const inst = lookupPath(fs, 'instances');
    const a = (await fs.mkdir(inst, 'a', 0o755, ROOT)) as Entry;
    await fs.rename(inst, 'a', inst, 'b', 0, ROOT);
    assert.deepEqual(names(listAll(fs, inst)), ['.', '..', 'b']);
    assert.equal((fs.lookup(inst, 'b', ROOT) as Entry).ino, a.ino, 'the node keeps its inode');
    await assert.rejects(async () => fs.rename(inst, 'b', 1, 'b', 0, ROOT), { code: 'EXDEV' });
    await assertErrno(() => fs.rename(inst, 'zz', inst, 'c', 0, ROOT), 'ENOENT');
  });

  it('answers like Linux kernfs where no hook exists', async () => {
    const fs = createKernfs();
    fs.createDir(fs.root, 'd');
    fs.createFile(fs.root, 'f', {});
    const f = lookupPath(fs, 'f');
    throwsErrno(() => fs.mkdir(1, 'x', 0o755, ROOT), 'EPERM');
    throwsErrno(() => fs.rmdir(1, 'd', ROOT), 'EPERM');
    throwsErrno(() => fs.rename(1, 'f', 1, 'g', 0, ROOT), 'EPERM');
    throwsErrno(() => fs.unlink(1, 'f', ROOT), 'EPERM');
    throwsErrno(() => fs.unlink(1, 'd', ROOT), 'EISDIR');
    throwsErrno(() => fs.unlink(1, 'nope', ROOT), 'ENOENT');
    throwsErrno(() => fs.create(1, 'new', 0o644, 0o100, ROOT), 'EACCES');
    throwsErrno(() => fs.create(1, 'f', 0o644, 0o100, ROOT), 'EEXIST');
    throwsErrno(() => fs.mknod(1, 'p', 0o10644, 0, ROOT), 'EPERM');
    throwsErrno(() => fs.symlink(1, 'l', 'f', ROOT), 'EPERM');
    throwsErrno(() => fs.link(f, 1, 'g', ROOT), 'EPERM');
    throwsErrno(() => fs.mkdir(1, 'd', 0o755, ROOT), 'EEXIST');
    throwsErrno(() => fs.mkdir(1, 'a/b', 0o755, ROOT), 'EINVAL');
    const st = fs.statfs(1, ROOT) as { bsize: number; namelen: number };
    assert.deepEqual([st.bsize, st.namelen], [4096, 255]);
    throwsErrno(() => fs.flush(777, ROOT), 'EBADF');
  });
});
