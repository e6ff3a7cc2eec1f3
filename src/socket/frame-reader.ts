/**
 * A client's receiving end of the protocol: each frame's body is read straight into memory of its own, chosen when
 * its header says how long it is and whose reply it is (`place`), through net's `onread` — so a READ reply of a
 * megabyte is neither re-joined from the 64 KiB pieces the socket hands out nor copied out of fresh per-read
 * buffers (together ~2/3 of `ntrace cat`'s CPU: docs/PERFORMANCE.md, "Session 5 — socket drain"), and a reader that
 * consumes each chunk before asking for the next can have its replies land in the same memory every time.
 *
 * It asks the socket for exactly what the frame needs next: the 12 bytes of a reply's length, id and status, then
 * the rest of the body.
 */
import { BadFrame, MAX_FRAME } from './protocol.js';

/** u32 body length, then the body's u32 id and i32 status: every reply and notification starts so. */
const HEAD = 12;

export class FrameReader {
  private readonly head = Buffer.alloc(HEAD);
  private have = 0;
  /** The body being read (its first 8 bytes, id and status, are copied from the head), and its length. */
  private body: Uint8Array | undefined;
  private bodyLength = 0;

  /**
   * `deliver` gets each whole body; `place(length, id)` gives the memory a body of `length` bytes is read into (at
   * least that long), e.g. a reused buffer for a READ whose reader said so. Errors (a frame we cannot read) go to
   * `fail`, and nothing more is read.
   */
  constructor(
    private readonly deliver: (body: Uint8Array) => void,
    private readonly place: (length: number, id: number) => Uint8Array,
    private readonly fail: (err: Error) => void,
  ) {}

  /** net's `onread` option: where the next read goes, and what came. */
  readonly onread = {
    buffer: (): Uint8Array =>
      this.body ? this.body.subarray(this.have, this.bodyLength) : this.head.subarray(this.have),
    callback: (n: number): boolean => {
      try {
        this.received(n);
        return true;
      } catch (err) {
        this.fail(err as Error);
        return false; // stop reading
      }
    },
  };

  private received(n: number): void {
    this.have += n;
    if (!this.body) {
      if (this.have < HEAD) return;
      const length = this.head.readUInt32LE(0);
      if (length < HEAD - 4 || length > MAX_FRAME) throw new BadFrame(`frame of ${length} bytes`);
      const body = this.place(length, this.head.readUInt32LE(4));
      body.set(this.head.subarray(4, HEAD));
      this.body = body;
      this.bodyLength = length;
      this.have = HEAD - 4;
    }
    if (this.have < this.bodyLength) return;
    const whole = this.body.subarray(0, this.bodyLength);
    this.body = undefined;
    this.have = 0;
    this.deliver(whole);
  }
}
