/**
 * Change notification: tells listeners (the transport) about changes to inodes the kernel holds — a transport needs
 * to hear only about what the kernel may have cached — and wakes pollers of changed content.
 */

import { fail } from './errors.js';
import type { InodeTable } from './inodes.js';
import { type DirNode, templateIno } from './node.js';
import type { PollWaiters } from './poll-waiters.js';
import { tableIndex } from './template.js';
import type { VfsChange } from './vfs.js';

export class ChangeNotifier {
  private readonly listeners = new Set<(change: VfsChange) => void>();

  constructor(
    private readonly inodes: InodeTable,
    private readonly pollers: PollWaiters,
  ) {}

  onChange(listener: (change: VfsChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** The name `name` in `dir` appeared, disappeared or changed meaning: the entry and the listing are stale. */
  entryChanged(dir: DirNode, name: string): void {
    const ino = dir.ino;
    if (!this.inodes.held(ino)) return;
    this.emit({ type: 'entry', parent: ino, name });
    this.emit({ type: 'inode', ino });
  }

  /** Content or attributes of inode `ino` changed. */
  inodeChanged(ino: number): void {
    if (this.inodes.held(ino)) this.emit({ type: 'inode', ino });
    this.pollers.wake(ino);
  }

  /** The file `name` of template directory `dir` changed (it has no object at rest, so it is named by row). */
  templateFileChanged(dir: DirNode, name: string): void {
    const index = dir.table ? tableIndex(dir.table).get(name) : undefined;
    if (index === undefined) fail('ENOENT');
    this.inodeChanged(templateIno(dir, index));
  }

  /** The attributes of every held inode may have changed (an ownership reset). */
  everyInodeChanged(): void {
    for (const ino of this.inodes.inos()) this.emit({ type: 'inode', ino });
  }

  private emit(change: VfsChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // A listener's failure is the transport's problem; the tree's change stands.
      }
    }
  }
}
