/**
 * The consuming `trace_pipe` text: reads of any size, a line cut by a short read continues on the next one (the
 * `trace` file's text is file-text.ts's).
 */
import type { TraceRecord } from '../record.js';
import { LineWriter } from './line-writer.js';
import { DEFAULT_TRACE_TEXT_OPTIONS, type TraceTextOptions, writeTraceLine } from './trace-line.js';

/** A record from a consuming reader, with the events lost on its CPU just before it (overwritten unread). */
export interface PipeItem {
  readonly record: TraceRecord;
  readonly lostEvents: number;
}

/** Returns the next record (consuming it), or undefined when none is available right now. */
export type NextRecord = () => TraceRecord | PipeItem | undefined;

const EMPTY = new Uint8Array(0);
/** Room kept at the end of lent memory for the line that crosses the stop: lines are about a page at most. */
const LINE_ROOM = 4096;
const NEWLINE = 0x0a;

function isPipeItem(x: TraceRecord | PipeItem): x is PipeItem {
  return 'record' in x;
}

export class TracePipeText {
  readonly #next: NextRecord;
  readonly #options: () => TraceTextOptions;
  /** Formatted bytes, already consumed, that the last read did not take (whole lines, or a cut line's rest). */
  #rest: Uint8Array = EMPTY;
  /** How many bytes at the start of `#rest` are the rest of a cut line (they come alone). */
  #cut = 0;
  readonly #w = new LineWriter(0);

  /** `options` may be a function so that `trace_options` changes apply to an open trace_pipe. */
  constructor(next: NextRecord, options: TraceTextOptions | (() => TraceTextOptions) = DEFAULT_TRACE_TEXT_OPTIONS) {
    this.#next = next;
    this.#options = typeof options === 'function' ? options : () => options;
  }

  /** True when bytes are waiting without asking the source (a read will not block). */
  get hasBuffered(): boolean {
    return this.#rest.length > 0;
  }

  /**
   * Up to `max` bytes of text: as many whole lines as fit. Returns an empty array when no record is available now:
   * the caller decides whether to block (wait for data and call again) or answer EAGAIN. Like the kernel, a read
   * that finds a partly returned line gives the rest of that line only, and a line is cut only when it alone is
   * longer than the read. Unlike the kernel, which formats at most a page per read(2), a large read gets as many
   * lines as it has room for: through FUSE each read is a round trip. The lines are written as bytes straight into
   * the buffer the read returns: `into` when given (memory the transport lends for this answer; the read then
   * stops a line's room short of its end, so that it need not grow out of it, and keeps nothing of it), else a
   * fresh one the caller keeps.
   */
  read(max: number, into?: Uint8Array): Uint8Array {
    if (!(max > 0)) return EMPTY;
    if (this.#cut > 0) {
      const n = Math.min(max, this.#cut);
      const out = this.#rest.slice(0, n);
      this.#rest = this.#rest.subarray(n);
      this.#cut -= n;
      return out;
    }
    const w = this.#w;
    let stop = max;
    const lent = into !== undefined && into.length >= max && into.length - LINE_ROOM >= this.#rest.length;
    if (lent) {
      w.lend(into);
      stop = Math.min(max, Math.max(1, into.length - LINE_ROOM));
    } else w.renew(Math.max(max, this.#rest.length) + 512);
    w.bytes(this.#rest);
    this.#rest = EMPTY;
    // Asked once per read, at its first record, not once per line.
    let options: TraceTextOptions | undefined;
    while (w.pos < stop) {
      let item: TraceRecord | PipeItem | undefined;
      try {
        item = this.#next();
      } catch {
        item = undefined;
      }
      if (!item) break;
      options ??= this.#options();
      if (isPipeItem(item)) writeTraceLine(w, item.record, options, item.lostEvents);
      else writeTraceLine(w, item, options);
    }
    const bytes = w.buf;
    const end = w.pos;
    if (end <= max) return bytes.subarray(0, end);
    // The lines past `max` wait for the next read (views of this read's own buffer, which nobody writes again;
    // copies of lent memory).
    const keep = (from: number) => (bytes === into ? bytes.slice(from, end) : bytes.subarray(from, end));
    const cut = bytes.lastIndexOf(NEWLINE, max - 1) + 1;
    if (cut > 0) {
      this.#rest = keep(cut);
      return bytes.subarray(0, cut);
    }
    // The first line alone is longer than the read: its rest comes alone, by the next reads.
    const eol = bytes.indexOf(NEWLINE) + 1 || end;
    this.#rest = keep(max);
    this.#cut = Math.min(eol, end) - max;
    return bytes.subarray(0, max);
  }
}
