/**
 * The Vfs the FUSE layer serves: the kernfs tree, with a cheap check of the engine's registry before every lookup,
 * open, read, write and directory listing, so an event defined a moment ago is there even if its doorbell ring is
 * still on its way; and a chown that other nodes' owners follow is reported to tracefs.
 */
import type { AttrChanges, DirFiller, Kernfs, MaybePromise, OpContext, Vfs, VfsChange } from '../kernfs/index.js';

export class RefreshingVfs implements Vfs {
  constructor(
    private readonly tree: Kernfs,
    private readonly refresh: () => void,
    /** Called after a successful chown/chgrp (other nodes' default owner may follow the changed one). */
    private readonly ownerChanged: (ino: number) => void = () => {},
  ) {}

  private fresh(): void {
    try {
      this.refresh();
    } catch {
      // A failed refresh must not fail the lookup; the next wake-up retries.
    }
  }

  lookup(parent: number, name: string, ctx: OpContext) {
    this.fresh();
    return this.tree.lookup(parent, name, ctx);
  }
  forget(ino: number, nlookup: number): void {
    this.tree.forget(ino, nlookup);
  }
  getattr(ino: number, ctx: OpContext) {
    return this.tree.getattr(ino, ctx);
  }
  setattr(ino: number, changes: AttrChanges, ctx: OpContext, fh?: number) {
    const attr = this.tree.setattr(ino, changes, ctx, fh);
    if (changes.uid !== undefined || changes.gid !== undefined) this.ownerChanged(ino);
    return attr;
  }
  access(ino: number, mask: number, ctx: OpContext) {
    return this.tree.access(ino, mask, ctx);
  }
  readlink(ino: number, ctx: OpContext) {
    return this.tree.readlink(ino, ctx);
  }
  open(ino: number, flags: number, ctx: OpContext) {
    // Cached names and listings send nothing; opens always do: a chance to notice new per-thread CPUs.
    this.fresh();
    return this.tree.open(ino, flags, ctx);
  }
  // Reads and writes too: a file of an event removed a moment ago answers ENODEV even before the doorbell rings.
  read(fh: number, offset: number, size: number, ctx: OpContext) {
    this.fresh();
    return this.tree.read(fh, offset, size, ctx);
  }
  write(fh: number, offset: number, data: Uint8Array, ctx: OpContext) {
    this.fresh();
    return this.tree.write(fh, offset, data, ctx);
  }
  flush(fh: number, ctx: OpContext) {
    return this.tree.flush(fh, ctx);
  }
  release(fh: number): void {
    this.tree.release(fh);
  }
  poll(fh: number, wake: (() => void) | undefined, ctx: OpContext) {
    return this.tree.poll(fh, wake, ctx);
  }
  opendir(ino: number, ctx: OpContext) {
    this.fresh();
    return this.tree.opendir(ino, ctx);
  }
  readdir(dh: number, cookie: number, fill: DirFiller, ctx: OpContext): MaybePromise<void> {
    return this.tree.readdir(dh, cookie, fill, ctx);
  }
  releasedir(dh: number): void {
    this.tree.releasedir(dh);
  }
  mkdir(parent: number, name: string, mode: number, ctx: OpContext) {
    return this.tree.mkdir(parent, name, mode, ctx);
  }
  rmdir(parent: number, name: string, ctx: OpContext) {
    return this.tree.rmdir(parent, name, ctx);
  }
  unlink(parent: number, name: string, ctx: OpContext) {
    return this.tree.unlink(parent, name, ctx);
  }
  rename(parent: number, name: string, newParent: number, newName: string, flags: number, ctx: OpContext) {
    return this.tree.rename(parent, name, newParent, newName, flags, ctx);
  }
  create(parent: number, name: string, mode: number, flags: number, ctx: OpContext) {
    return this.tree.create(parent, name, mode, flags, ctx);
  }
  mknod(parent: number, name: string, mode: number, rdev: number, ctx: OpContext) {
    return this.tree.mknod(parent, name, mode, rdev, ctx);
  }
  symlink(parent: number, name: string, target: string, ctx: OpContext) {
    return this.tree.symlink(parent, name, target, ctx);
  }
  link(ino: number, newParent: number, newName: string, ctx: OpContext) {
    return this.tree.link(ino, newParent, newName, ctx);
  }
  statfs(ino: number, ctx: OpContext) {
    return this.tree.statfs(ino, ctx);
  }
  onChange(listener: (change: VfsChange) => void): () => void {
    return this.tree.onChange(listener);
  }
  liveInodes(): number {
    return this.tree.liveInodes();
  }
}
