import { FsError } from './errors.js';

/**
 * Cyclic allocator of inode slots with a generation (see SLOT_SPAN in ./node.ts for how slots become inode numbers).
 *
 * Slots are handed out in increasing order. When the counter reaches the limit it wraps to 1, the generation is bumped,
 * and from then on slots still in use are skipped. Rather than keep a per-node "in use" record (memory for every
 * directory, forever), the allocator asks its owner for the set of live slots once per wrap: before the first wrap
 * every slot above the counter is free, and after a wrap only the slots live at that moment can collide with the new
 * ones (slots allocated since are all ahead of the counter).
 */
export class SlotAllocator {
  private next = 1;
  private gen = 1;
  private inUse: Set<number> | null = null;

  constructor(
    private readonly limit: number,
    private readonly liveSlots: () => Set<number>,
  ) {
    if (!(limit >= 2)) throw new RangeError('slot limit must be at least 2');
  }

  get generation(): number {
    return this.gen;
  }

  /** Returns [slot, generation]. Throws FsError ENOSPC when every slot is live. */
  allocate(): [number, number] {
    let wrapped = false;
    for (;;) {
      if (this.next >= this.limit) {
        if (wrapped) throw new FsError('ENOSPC', 'no free inode number');
        wrapped = true;
        this.next = 1;
        this.gen++;
        this.inUse = this.liveSlots();
      }
      const slot = this.next++;
      if (this.inUse?.has(slot)) continue;
      return [slot, this.gen];
    }
  }
}
