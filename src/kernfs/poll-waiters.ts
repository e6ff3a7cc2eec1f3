/**
 * Open files with a pending poll wake, indexed by inode number, so a change to a node wakes exactly its pollers.
 * A file is in the index from the poll that left a wake until that wake runs or the open ends.
 */
import type { OpenFile } from './open-file.js';

export class PollWaiters {
  private readonly byIno = new Map<number, Set<OpenFile>>();
  /** Given to every OpenFile, which calls it when its wake runs (one function for all, not a closure per open). */
  readonly woken = (file: OpenFile): void => this.remove(file);

  add(file: OpenFile): void {
    const ino = file.node.ino;
    let set = this.byIno.get(ino);
    if (!set) {
      set = new Set();
      this.byIno.set(ino, set);
    }
    set.add(file);
  }

  remove(file: OpenFile): void {
    const ino = file.node.ino;
    const set = this.byIno.get(ino);
    if (!set) return;
    set.delete(file);
    if (set.size === 0) this.byIno.delete(ino);
  }

  /** Run the pending wake of every open file of inode `ino`. */
  wake(ino: number): void {
    const set = this.byIno.get(ino);
    if (!set) return;
    // Every file in the set is about to be woken, and a wake leaves the index anyway: take the whole set out first,
    // so the removal each wake does misses it and iterating needs no copy. A wake that polls again starts a new set.
    this.byIno.delete(ino);
    for (const file of set) file.wake();
  }
}
