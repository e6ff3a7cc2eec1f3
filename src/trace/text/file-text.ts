/**
 * The `trace` file's text (and `snapshot`'s): the header, then a line per record, served by byte offset without
 * building it whole. Like trace_pipe, each read formats its lines straight into the memory the transport lends for
 * the answer; only what the read's last line puts past its end is kept, for the next read. (Formatting 32 KiB
 * chunks into fresh buffers and copying reads out of them cost `trace` a quarter of trace_pipe's speed: see
 * docs/PERFORMANCE.md, "Session 5 — trace".)
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

/** Text made on demand: `write` appends to `w` until `w.pos >= stop` or the text ends; false once it has ended. */
export interface TextSource {
  write(w: LineWriter, stop: number): boolean;
}

const EMPTY = new Uint8Array(0);
/** Room kept at the end of lent memory for the line that crosses the stop: lines are about a page at most. */
const LINE_ROOM = 4096;

class TraceFileText implements TextSource {
  #header: string | undefined;
  readonly #next: () => TraceRecord | undefined;
  readonly #options: TraceTextOptions;
  readonly #annotate: boolean;
  readonly #started = new Set<number>();
  #first = true;

  constructor(header: string, next: () => TraceRecord | undefined, options: TraceTextOptions, annotate: boolean) {
    this.#header = header;
    this.#next = next;
    this.#options = options;
    this.#annotate = annotate;
  }

  write(w: LineWriter, stop: number): boolean {
    if (this.#header !== undefined) {
      w.text(this.#header);
      this.#header = undefined;
    }
    const next = this.#next;
    const options = this.#options;
    while (w.pos < stop) {
      const r = next();
      if (r === undefined) return false;
      if (this.#annotate && !this.#started.has(r.cpu)) {
        this.#started.add(r.cpu);
        if (!this.#first) w.text(`##### CPU ${r.cpu} buffer started ####\n`);
      }
      this.#first = false;
      writeTraceLine(w, r, options);
    }
    return true;
  }
}

/**
 * The `trace` file's text: the header, then the lines of the records (a function returning the next one or
 * undefined, as the readers' `next`, or any iterable). When records were overwritten (written > entries) and
 * `annotate` is on, each CPU's first line but the very first is preceded by the kernel's `##### CPU N buffer
 * started ####`, telling the reader where that CPU's surviving history begins. `header` replaces the `trace` header
 * (the snapshot file has its own).
 */
export function traceFileText(
  info: TraceHeaderInfo,
  records: Iterable<TraceRecord> | (() => TraceRecord | undefined),
  options: TraceTextOptions = DEFAULT_TRACE_TEXT_OPTIONS,
  header: string = traceHeader(info, options),
): TextSource {
  const annotate = options.annotate && info.written > info.entries && !options.raw && !options.hex;
  let next: () => TraceRecord | undefined;
  if (typeof records === 'function') next = records;
  else {
    const it = records[Symbol.iterator]();
    next = () => {
      const r = it.next();
      return r.done ? undefined : r.value;
    };
  }
  return new TraceFileText(header, next, options, annotate);
}

/**
 * Serves a generated text file by byte offset: the text `make()` produces is made as reads reach it. Reading
 * backwards makes it again from the start (like seq_file, which restarts its iterator); reading forwards past what
 * was made makes the text in between and drops it. A read may return less than asked (a line's room short of the
 * lent memory's end), never nothing before the end.
 */
export class TextFileReader {
  readonly #make: () => TextSource;
  #source: TextSource | undefined;
  #done = false;
  /** Text made but not read yet (what the last read's last line put past its end); `#at` is its file offset. */
  #rest: Uint8Array = EMPTY;
  #at = 0;
  readonly #w = new LineWriter(0);

  constructor(make: () => TextSource) {
    this.#make = make;
  }

  #restart(): void {
    this.#source = undefined;
    this.#done = false;
    this.#rest = EMPTY;
    this.#at = 0;
  }

  /** Appends text to `w` until `w.pos >= stop` or the end. A source that throws ends the text where it is. */
  #produce(w: LineWriter, stop: number): void {
    if (this.#done) return;
    try {
      this.#source ??= this.#make();
      if (!this.#source.write(w, stop)) this.#done = true;
    } catch {
      this.#done = true;
    }
  }

  /**
   * Up to `size` bytes at `offset`; empty at or past the end. Written in `into` when given (memory the transport
   * lends for the answer; nothing of it is kept), else in a fresh buffer.
   */
  read(offset: number, size: number, into?: Uint8Array): Uint8Array {
    if (!(size > 0) || !(offset >= 0)) return EMPTY;
    if (offset < this.#at) this.#restart();
    const w = this.#w;
    let stop = size;
    if (into !== undefined && into.length >= size && into.length > LINE_ROOM) {
      w.lend(into);
      stop = Math.min(size, into.length - LINE_ROOM);
    } else w.renew(size + 512);
    let skip = offset - this.#at;
    if (skip < this.#rest.length) w.bytes(this.#rest, skip);
    else {
      skip -= this.#rest.length;
      while (skip > 0 && !this.#done) {
        this.#produce(w, skip);
        if (w.pos > skip) {
          w.buf.copyWithin(0, skip, w.pos);
          w.pos -= skip;
          skip = 0;
        } else {
          skip -= w.pos;
          w.pos = 0;
        }
      }
    }
    if (w.pos < stop) this.#produce(w, stop);
    const n = Math.min(w.pos, size);
    // A copy: lent memory is the transport's again once this read is answered.
    this.#rest = w.pos > n ? w.buf.slice(n, w.pos) : EMPTY;
    this.#at = offset + n;
    return w.buf.subarray(0, n);
  }
}
