/**
 * Memory the socket thread lends the tree's thread for READ replies, so that a read renders its bytes straight into
 * the frame the socket thread writes: no copy into a reply frame, no copy through postMessage, no fresh memory per
 * read (each of which cost more than the rendering itself: docs/PERFORMANCE.md, "Session 5 — socket drain").
 *
 * One SharedArrayBuffer, made by the tree's thread at its first READ and posted to the socket thread: a state word
 * per slot, then the slots, each a reply header and room for the largest READ. The tree's thread takes a free slot
 * for a READ (lends its body as the op's `replyBuffer`) and, when the op answered in it, fills in the header and
 * posts only the slot's number and length; the socket thread writes a view of the slot and frees it once the kernel
 * has taken the bytes. A read that parks keeps its slot until it settles; when every slot is out (a client that
 * reads slowly, many readers), a READ gets no loan and its reply is copied into a frame as any other.
 */

/** Bytes in front of a READ reply's data: u32 frame length, u32 id, i32 status, u32 byte count. */
export const READ_HEADER = 16;
/** The largest READ the server answers (bigger requests are cut to it). */
export const MAX_READ = 1024 * 1024;
/**
 * Room past MAX_READ: a text reader given lent memory stops a line's room (4 KiB) short of its end, so that a READ of
 * MAX_READ still gets MAX_READ bytes.
 */
const SLACK = 4096;
const SLOT_SIZE = READ_HEADER + MAX_READ + SLACK;
/** Two READs in flight of one reader, one being written, and one more reader. */
const SLOTS = 4;
/** The state words, padded so that slot bodies start 16-byte aligned. */
const STATES_SIZE = 64;
const FREE = 0;
const LENT = 1;

/** A READ reply made in a slot, as posted to the socket thread: which slot, and how many bytes of it to write. */
export interface LentFrame {
  readonly slot: number;
  readonly length: number;
}

export class ReplySlots {
  private readonly states: Int32Array;
  private readonly view: DataView;

  private constructor(readonly buffer: SharedArrayBuffer) {
    this.states = new Int32Array(buffer, 0, SLOTS);
    this.view = new DataView(buffer);
  }

  /** New slots (the tree's thread): all free. Pages are only touched as replies are made in them. */
  static create(): ReplySlots {
    return new ReplySlots(new SharedArrayBuffer(STATES_SIZE + SLOTS * SLOT_SIZE));
  }

  /** The same slots, seen from the socket thread. */
  static attach(buffer: SharedArrayBuffer): ReplySlots {
    return new ReplySlots(buffer);
  }

  /** Takes a free slot; -1 when every slot is out. */
  lend(): number {
    for (let i = 0; i < SLOTS; i++) if (Atomics.compareExchange(this.states, i, FREE, LENT) === FREE) return i;
    return -1;
  }

  /** Gives a slot back (a no-op for -1). */
  free(slot: number): void {
    if (slot >= 0) Atomics.store(this.states, slot, FREE);
  }

  /** The memory a READ op may answer in (its `replyBuffer`): MAX_READ bytes and the slack. */
  body(slot: number): Uint8Array {
    return new Uint8Array(this.buffer, STATES_SIZE + slot * SLOT_SIZE + READ_HEADER, MAX_READ + SLACK);
  }

  /** Whether `data` is the start of `slot`'s body (the op answered in the memory it was lent). */
  holds(slot: number, data: Uint8Array): boolean {
    return slot >= 0 && data.buffer === this.buffer && data.byteOffset === STATES_SIZE + slot * SLOT_SIZE + READ_HEADER;
  }

  /** Writes the reply header in front of `count` bytes of data in `slot`: the frame is then whole. */
  seal(slot: number, id: number, count: number): LentFrame {
    const at = STATES_SIZE + slot * SLOT_SIZE;
    this.view.setUint32(at, READ_HEADER - 4 + count, true);
    this.view.setUint32(at + 4, id, true);
    this.view.setInt32(at + 8, 0, true);
    this.view.setUint32(at + 12, count, true);
    return { slot, length: READ_HEADER + count };
  }

  /** The frame to write (the socket thread): a view of the slot, no copy. */
  frame(f: LentFrame): Buffer {
    return Buffer.from(this.buffer, STATES_SIZE + f.slot * SLOT_SIZE, f.length);
  }
}
