/**
 * Text streams over records: the consuming `trace_pipe` reader (reads of any size, a line cut by a short read
 * continues on the next one) and the `trace` file's header-then-lines sequence.
 */
import type { TraceRecord } from '../record.js';
import {
  DEFAULT_TRACE_TEXT_OPTIONS,
  type TraceHeaderInfo,
  type TraceTextOptions,
  traceHeader,
  traceLine,
} from './trace-line.js';

/** A record from a consuming reader, with the events lost on its CPU just before it (overwritten unread). */
export interface PipeItem {
  readonly record: TraceRecord;
  readonly lostEvents: number;
}

/** Returns the next record (consuming it), or undefined when none is available right now. */
export type NextRecord = () => TraceRecord | PipeItem | undefined;

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const NEWLINE = 0x0a;

function isPipeItem(x: TraceRecord | PipeItem): x is PipeItem {
  return 'record' in x;
}

export class TracePipeText {
  readonly #next: NextRecord;
  readonly #options: () => TraceTextOptions;
  /** Bytes of an already consumed line that a short read did not take. */
  #pending: Uint8Array = EMPTY;
  /** Whole lines, already consumed, that did not fit in the last read. */
  #held = '';

  /** `options` may be a function so that `trace_options` changes apply to an open trace_pipe. */
  constructor(next: NextRecord, options: TraceTextOptions | (() => TraceTextOptions) = DEFAULT_TRACE_TEXT_OPTIONS) {
    this.#next = next;
    this.#options = typeof options === 'function' ? options : () => options;
  }

  /** True when bytes are waiting without asking the source (a read will not block). */
  get hasBuffered(): boolean {
    return this.#pending.length > 0 || this.#held.length > 0;
  }

  /**
   * Up to `max` bytes of text: as many whole lines as fit. Returns an empty array when no record is available now:
   * the caller decides whether to block (wait for data and call again) or answer EAGAIN. Like the kernel, a read
   * that finds a partly returned line gives the rest of that line only, and a line is cut only when it alone is
   * longer than the read. Unlike the kernel, which formats at most a page per read(2), a large read gets as many
   * lines as it has room for: through FUSE each read is a round trip. The lines are formatted into one string and
   * encoded once.
   */
  read(max: number): Uint8Array {
    if (!(max > 0)) return EMPTY;
    if (this.#pending.length > 0) {
      const out = this.#pending.subarray(0, max);
      this.#pending = this.#pending.subarray(out.length);
      return out;
    }
    let text = this.#held;
    this.#held = '';
    // Asked once per read, at its first record, not once per line.
    let options: TraceTextOptions | undefined;
    // Characters count bytes for ASCII text; longer UTF-8 is cut to whole lines after encoding.
    while (text.length < max) {
      let item: TraceRecord | PipeItem | undefined;
      try {
        item = this.#next();
      } catch {
        item = undefined;
      }
      if (!item) break;
      options ??= this.#options();
      const line = isPipeItem(item) ? traceLine(item.record, options, item.lostEvents) : traceLine(item, options);
      if (text.length > 0 && text.length + line.length > max) {
        this.#held = line;
        break;
      }
      text += line;
    }
    if (text.length === 0) return EMPTY;
    return this.#fit(encoder.encode(text), max);
  }

  /** The whole lines of `bytes` that fit in `max`; the rest waits (or, for a line longer than `max`, is cut). */
  #fit(bytes: Uint8Array, max: number): Uint8Array {
    if (bytes.length <= max) return bytes;
    const cut = bytes.lastIndexOf(NEWLINE, max - 1) + 1;
    if (cut > 0) {
      this.#held = decoder.decode(bytes.subarray(cut)) + this.#held;
      return bytes.subarray(0, cut);
    }
    // The first line alone is longer than the read: its rest comes alone, by the next reads.
    const eol = bytes.indexOf(NEWLINE) + 1 || bytes.length;
    this.#pending = bytes.subarray(max, eol);
    if (eol < bytes.length) this.#held = decoder.decode(bytes.subarray(eol)) + this.#held;
    return bytes.subarray(0, max);
  }
}

/**
 * The `trace` file as a sequence of strings: the header, then one line per record. When records were overwritten
 * (written > entries) and `annotate` is on, each CPU's first line but the very first is preceded by the kernel's
 * `##### CPU N buffer started ####`, telling the reader where that CPU's surviving history begins.
 */
export function* traceFileText(
  info: TraceHeaderInfo,
  records: Iterable<TraceRecord>,
  options: TraceTextOptions = DEFAULT_TRACE_TEXT_OPTIONS,
): Generator<string> {
  yield traceHeader(info, options);
  const annotate = options.annotate && info.written > info.entries && !options.raw && !options.hex;
  const started = new Set<number>();
  let first = true;
  for (const r of records) {
    let prefix = '';
    if (annotate && !started.has(r.cpu)) {
      started.add(r.cpu);
      if (!first) prefix = `##### CPU ${r.cpu} buffer started ####\n`;
    }
    first = false;
    yield prefix + traceLine(r, options);
  }
}

/**
 * Serves a generated text file (`trace`, `snapshot`, ...) by byte offset without building it whole: chunks are
 * encoded as reads reach them and dropped once read past. Reading backwards regenerates the text from the start
 * (like seq_file, which restarts its iterator); the text is the one `make()` produces at that moment.
 */
export class TextFileReader {
  readonly #make: () => Iterable<string>;
  #it: Iterator<string> | undefined;
  #done = false;
  /** Encoded chunks not yet read past; `#start` is the file offset of the first one. */
  #chunks: Uint8Array[] = [];
  #start = 0;
  #end = 0;

  constructor(make: () => Iterable<string>) {
    this.#make = make;
  }

  #restart(): void {
    this.#it = undefined;
    this.#done = false;
    this.#chunks = [];
    this.#start = 0;
    this.#end = 0;
  }

  /** Appends a chunk of at least `want` characters (fewer at the end), encoded once. False when nothing was left. */
  #pull(want: number): boolean {
    if (this.#done) return false;
    let text = '';
    try {
      this.#it ??= this.#make()[Symbol.iterator]();
      while (text.length < want) {
        const r = this.#it.next();
        if (r.done) {
          this.#done = true;
          break;
        }
        text += r.value;
      }
    } catch {
      // A generator that throws ends the file where it is: readers never see an exception.
      this.#done = true;
    }
    if (text.length === 0) return false;
    const bytes = encoder.encode(text);
    this.#chunks.push(bytes);
    this.#end += bytes.length;
    return true;
  }

  /** Up to `size` bytes at `offset`; empty at or past the end. */
  read(offset: number, size: number): Uint8Array {
    if (!(size > 0) || !(offset >= 0)) return EMPTY;
    if (offset < this.#start) this.#restart();
    while (this.#end < offset + size && this.#pull(offset + size - this.#end)) {}
    // Drop whole chunks that end at or before `offset`.
    while (this.#chunks.length > 0 && this.#start + this.#chunks[0].length <= offset) {
      this.#start += this.#chunks[0].length;
      this.#chunks.shift();
    }
    const stop = Math.min(offset + size, this.#end);
    if (stop <= offset) return EMPTY;
    const out = new Uint8Array(stop - offset);
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
    return out;
  }
}
