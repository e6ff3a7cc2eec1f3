/**
 * Text streams over records: the consuming `trace_pipe` reader (reads of any size, a line cut by a short read
 * continues on the next one) and the `trace` file's header-then-lines sequence.
 */
import type { TraceRecord } from '../record.js';
import { LineWriter } from './line-writer.js';
import {
  DEFAULT_TRACE_TEXT_OPTIONS,
  type TraceHeaderInfo,
  type TraceTextOptions,
  traceHeader,
  writeTraceLine,
} from './trace-line.js';

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
const encoder = new TextEncoder();
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

/** Bytes of `trace` text formatted per chunk: the reader asks for reads of up to 64 KiB or so. */
const FILE_CHUNK = 32 * 1024;

/**
 * The `trace` file as a sequence of byte chunks: the header, then the lines of the records. When records were
 * overwritten (written > entries) and `annotate` is on, each CPU's first line but the very first is preceded by the
 * kernel's `##### CPU N buffer started ####`, telling the reader where that CPU's surviving history begins.
 * `header` replaces the `trace` header (the snapshot file has its own).
 */
export function* traceFileText(
  info: TraceHeaderInfo,
  records: Iterable<TraceRecord>,
  options: TraceTextOptions = DEFAULT_TRACE_TEXT_OPTIONS,
  header: string = traceHeader(info, options),
): Generator<Uint8Array> {
  const annotate = options.annotate && info.written > info.entries && !options.raw && !options.hex;
  const started = new Set<number>();
  let first = true;
  const w = new LineWriter(FILE_CHUNK + 512);
  w.text(header);
  for (const r of records) {
    if (annotate && !started.has(r.cpu)) {
      started.add(r.cpu);
      if (!first) w.text(`##### CPU ${r.cpu} buffer started ####\n`);
    }
    first = false;
    writeTraceLine(w, r, options);
    if (w.pos >= FILE_CHUNK) {
      yield w.buf.subarray(0, w.pos);
      w.renew(FILE_CHUNK + 512);
    }
  }
  if (w.pos > 0) yield w.buf.subarray(0, w.pos);
}

/**
 * Serves a generated text file (`trace`, `snapshot`, ...) by byte offset without building it whole: chunks (bytes,
 * or strings encoded once) are made as reads reach them and dropped once read past. Reading backwards regenerates the text from the start
 * (like seq_file, which restarts its iterator); the text is the one `make()` produces at that moment.
 */
export class TextFileReader {
  readonly #make: () => Iterable<string | Uint8Array>;
  #it: Iterator<string | Uint8Array> | undefined;
  #done = false;
  /** Encoded chunks not yet read past; `#start` is the file offset of the first one. */
  #chunks: Uint8Array[] = [];
  #start = 0;
  #end = 0;

  constructor(make: () => Iterable<string | Uint8Array>) {
    this.#make = make;
  }

  #restart(): void {
    this.#it = undefined;
    this.#done = false;
    this.#chunks = [];
    this.#start = 0;
    this.#end = 0;
  }

  /** Appends the next non-empty chunk (strings encoded once). False when nothing was left. */
  #pull(): boolean {
    while (!this.#done) {
      let bytes: Uint8Array;
      try {
        this.#it ??= this.#make()[Symbol.iterator]();
        const r = this.#it.next();
        if (r.done) {
          this.#done = true;
          return false;
        }
        bytes = typeof r.value === 'string' ? encoder.encode(r.value) : r.value;
      } catch {
        // A generator that throws ends the file where it is: readers never see an exception.
        this.#done = true;
        return false;
      }
      if (bytes.length === 0) continue;
      this.#chunks.push(bytes);
      this.#end += bytes.length;
      return true;
    }
    return false;
  }

  /**
   * Up to `size` bytes at `offset`; empty at or past the end. A read that spans chunks is put together in `into`
   * when given (memory the transport lends for the answer), else in a fresh buffer.
   */
  read(offset: number, size: number, into?: Uint8Array): Uint8Array {
    if (!(size > 0) || !(offset >= 0)) return EMPTY;
    if (offset < this.#start) this.#restart();
    while (this.#end < offset + size && this.#pull()) {}
    // Drop whole chunks that end at or before `offset`.
    while (this.#chunks.length > 0 && this.#start + this.#chunks[0].length <= offset) {
      this.#start += this.#chunks[0].length;
      this.#chunks.shift();
    }
    const stop = Math.min(offset + size, this.#end);
    if (stop <= offset) return EMPTY;
    const first = this.#chunks[0];
    if (stop - this.#start <= first.length) return first.subarray(offset - this.#start, stop - this.#start);
    const out = into !== undefined && into.length >= stop - offset ? into : Buffer.allocUnsafe(stop - offset);
    let pos = this.#start;
    let o = 0;
    for (const c of this.#chunks) {
      if (pos >= stop) break;
      const from = Math.max(0, offset - pos);
      const to = Math.min(c.length, stop - pos);
      if (to > from) {
        out.set(c.subarray(from, to), o);
        o += to - from;
      }
      pos += c.length;
    }
    return out.subarray(0, o);
  }
}
