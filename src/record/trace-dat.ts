/**
 * The layout of trace-cmd's trace.dat, versions 6 and 7 (trace-cmd's Documentation/trace-cmd/trace-cmd.dat.v6.5.txt
 * and .v7.5.txt): everything but the ring pages is laid out here in memory; the pages of each CPU are copied in
 * afterwards at the page-aligned offsets this computes. Little-endian, 8-byte longs, uncompressed.
 */
import { Bytes } from './bytes.js';

/** What a trace.dat says about the recording besides its pages. */
export interface TraceDatHeader {
  readonly version: 6 | 7;
  readonly pageSize: number;
  /** events/header_page and events/header_event, as read. */
  readonly headerPage: Uint8Array;
  readonly headerEvent: Uint8Array;
  /** events/ftrace/{name}/format of every ftrace event. */
  readonly ftraceFormats: readonly Uint8Array[];
  /** The other systems with the formats of the events that may appear in the data. */
  readonly systems: readonly { readonly name: string; readonly formats: readonly Uint8Array[] }[];
  /** saved_cmdlines: `pid comm` lines. */
  readonly cmdlines: Uint8Array;
  /** The trace_clock file's content (`[local] global …`). */
  readonly traceClock: string;
  readonly uname: string;
  /** Who wrote it (trace-cmd writes its own version). */
  readonly writer: string;
  /** Number of CPUs of the recorded buffer. */
  readonly cpuCount: number;
  /** The instance recorded; '' is the top level. */
  readonly instance: string;
  /** per_cpu/cpuN/stats text at the end of the recording, by CPU. */
  readonly cpuStats: readonly string[];
}

/** Bytes of ring pages recorded for one CPU (a multiple of the page size). */
export interface CpuExtent {
  readonly cpu: number;
  readonly size: number;
}

export interface TraceDatLayout {
  /** Everything before the first CPU's pages (padding included). */
  readonly head: Buffer;
  /** Where each CPU's pages go, in the order given. */
  readonly offsets: readonly number[];
  /** Total file size. */
  readonly size: number;
}

const MAGIC = Buffer.from([0x17, 0x08, 0x44, ...Buffer.from('tracing')]);

/** trace-cmd's option and section ids (the v7 document's list). */
const OPT = {
  DONE: 0,
  CPUSTAT: 2,
  BUFFER: 3,
  TRACECLOCK: 4,
  UNAME: 5,
  CPUCOUNT: 8,
  VERSION: 9,
  STRINGS: 15,
  HEADER_INFO: 16,
  FTRACE_EVENTS: 17,
  EVENT_FORMATS: 18,
  KALLSYMS: 19,
  PRINTK: 20,
  CMDLINES: 21,
} as const;

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** The clock name trace_clock marks with brackets. */
export function selectedClock(traceClock: string): string {
  return /\[([^\]]+)\]/.exec(traceClock)?.[1] ?? 'local';
}

function fileStart(b: Bytes, version: 6 | 7, pageSize: number): void {
  b.bytes(MAGIC).cstr(String(version));
  b.bytes(Uint8Array.of(0, 8)); // little endian, 8-byte long
  b.u32(pageSize);
}

function headerInfo(b: Bytes, h: TraceDatHeader): void {
  b.cstr('header_page').u64(h.headerPage.length).bytes(h.headerPage);
  b.cstr('header_event').u64(h.headerEvent.length).bytes(h.headerEvent);
}

function ftraceFormats(b: Bytes, h: TraceDatHeader): void {
  b.u32(h.ftraceFormats.length);
  for (const f of h.ftraceFormats) b.u64(f.length).bytes(f);
}

function eventFormats(b: Bytes, h: TraceDatHeader): void {
  b.u32(h.systems.length);
  for (const s of h.systems) {
    b.cstr(s.name).u32(s.formats.length);
    for (const f of s.formats) b.u64(f.length).bytes(f);
  }
}

function cmdlines(b: Bytes, h: TraceDatHeader): void {
  b.u64(h.cmdlines.length).bytes(h.cmdlines);
}

function option(b: Bytes, id: number, data: Bytes | string | number): void {
  let body: Buffer;
  if (typeof data === 'string') body = Buffer.from(`${data}\0`, 'utf8');
  else if (typeof data === 'number') body = new Bytes().u32(data).toBuffer();
  else body = data.toBuffer();
  b.u16(id).u32(body.length).bytes(body);
}

/** Options both versions carry: stats per CPU, clock, uname, writer, CPU count. */
function commonOptions(b: Bytes, h: TraceDatHeader): void {
  for (const text of h.cpuStats) option(b, OPT.CPUSTAT, text);
  option(b, OPT.TRACECLOCK, h.traceClock);
  option(b, OPT.UNAME, h.uname);
  option(b, OPT.VERSION, h.writer);
  option(b, OPT.CPUCOUNT, h.cpuCount);
}

/** Places each CPU's pages after `headEnd`, page-aligned, one after the other. */
function placeCpus(headEnd: number, pageSize: number, cpus: readonly CpuExtent[]): { offsets: number[]; end: number } {
  let at = alignUp(headEnd, pageSize);
  const offsets: number[] = [];
  for (const c of cpus) {
    offsets.push(at);
    at += c.size;
  }
  return { offsets, end: at };
}

/**
 * Version 6: fixed order — headers, ftrace formats, event formats, kallsyms, printk formats, cmdlines, CPU count,
 * options, "flyrecord" and the (offset, size) of each CPU. A recorded instance goes in as the file's buffer (v6 has no
 * per-buffer clock; trace-cmd itself names instances only in BUFFER options beside a top-level recording).
 */
function layoutV6(h: TraceDatHeader, cpus: readonly CpuExtent[]): TraceDatLayout {
  const b = new Bytes();
  fileStart(b, 6, h.pageSize);
  headerInfo(b, h);
  ftraceFormats(b, h);
  eventFormats(b, h);
  b.u32(0); // kallsyms: none (no kernel functions in a Node.js process)
  b.u32(0); // printk formats: none
  cmdlines(b, h);
  b.u32(cpus.length);
  b.bytes(Buffer.from('options  \0'));
  commonOptions(b, h);
  b.u16(OPT.DONE);
  b.bytes(Buffer.from('flyrecord\0'));
  const table = b.length;
  for (let i = 0; i < cpus.length; i++) b.u64(0).u64(0);
  const { offsets, end } = placeCpus(b.length, h.pageSize, cpus);
  for (const [i, c] of cpus.entries()) {
    b.patchU64(table + i * 16, offsets[i]);
    b.patchU64(table + i * 16 + 8, c.size);
  }
  return { head: padded(b, offsets[0] ?? alignUp(b.length, h.pageSize)), offsets, size: Math.max(end, b.length) };
}

/** The head, zero-padded up to where the first CPU's pages start. */
function padded(b: Bytes, dataStart: number): Buffer {
  const head = Buffer.alloc(dataStart);
  b.toBuffer().copy(head);
  return head;
}

/** A v7 section: id, flags (0: uncompressed), description (an offset into the strings section), size of the body. */
function section(b: Bytes, id: number, desc: number, body: (s: Bytes) => void): number {
  const at = b.length;
  const s = new Bytes();
  body(s);
  b.u16(id).u16(0).u32(desc).u64(s.length).bytes(s.toBuffer());
  return at;
}

/**
 * Version 7: a chain of sections, each with a header saying its size (readers walk the chain to find the strings),
 * and an options section pointing at the others. Order here: strings, options, headers, ftrace formats, event
 * formats, kallsyms, printk, cmdlines, then the buffer's section whose body is padding and the CPUs' pages.
 */
function layoutV7(h: TraceDatHeader, cpus: readonly CpuExtent[]): TraceDatLayout {
  const names = ['options', 'headers', 'ftrace events', 'events format', 'kallsyms', 'printk', 'command lines'];
  const bufferName = h.instance === '' ? 'flyrecord' : h.instance;
  names.push(bufferName);
  const strings = new Bytes();
  const desc = new Map<string, number>();
  for (const n of names) {
    desc.set(n, strings.length);
    strings.cstr(n);
  }

  // Two passes: the options hold offsets of what follows them, and their own size does not depend on the values.
  const build = (offsets: Map<number, number>, cpuOffsets: number[]): { b: Bytes; at: Map<number, number> } => {
    const b = new Bytes();
    const at = new Map<number, number>();
    fileStart(b, 7, h.pageSize);
    b.cstr('none').cstr('');
    const firstOptions = b.length;
    b.u64(0);
    section(b, OPT.STRINGS, -1, (s) => s.bytes(strings.toBuffer()));
    b.patchU64(firstOptions, b.length);
    section(b, OPT.DONE, desc.get('options')!, (s) => {
      for (const id of [OPT.HEADER_INFO, OPT.FTRACE_EVENTS, OPT.EVENT_FORMATS, OPT.KALLSYMS, OPT.PRINTK, OPT.CMDLINES])
        option(s, id, new Bytes().u64(offsets.get(id) ?? 0));
      commonOptions(s, h);
      if (h.instance !== '') {
        // The top level recorded nothing: an empty buffer of its own, as trace-cmd writes for `record -B` alone.
        const top = new Bytes()
          .u64(offsets.get(-1) ?? 0)
          .cstr('')
          .cstr(selectedClock(h.traceClock));
        option(s, OPT.BUFFER, top.u32(h.pageSize).u32(0));
      }
      const buf = new Bytes()
        .u64(offsets.get(OPT.BUFFER) ?? 0)
        .cstr(h.instance)
        .cstr(selectedClock(h.traceClock));
      buf.u32(h.pageSize).u32(cpus.length);
      for (const [i, c] of cpus.entries())
        buf
          .u32(c.cpu)
          .u64(cpuOffsets[i] ?? 0)
          .u64(c.size);
      option(s, OPT.BUFFER, buf);
      option(s, OPT.DONE, new Bytes().u64(0));
    });
    at.set(
      OPT.HEADER_INFO,
      section(b, OPT.HEADER_INFO, desc.get('headers')!, (s) => headerInfo(s, h)),
    );
    at.set(
      OPT.FTRACE_EVENTS,
      section(b, OPT.FTRACE_EVENTS, desc.get('ftrace events')!, (s) => ftraceFormats(s, h)),
    );
    at.set(
      OPT.EVENT_FORMATS,
      section(b, OPT.EVENT_FORMATS, desc.get('events format')!, (s) => eventFormats(s, h)),
    );
    at.set(
      OPT.KALLSYMS,
      section(b, OPT.KALLSYMS, desc.get('kallsyms')!, (s) => s.u32(0)),
    );
    at.set(
      OPT.PRINTK,
      section(b, OPT.PRINTK, desc.get('printk')!, (s) => s.u32(0)),
    );
    at.set(
      OPT.CMDLINES,
      section(b, OPT.CMDLINES, desc.get('command lines')!, (s) => cmdlines(s, h)),
    );
    if (h.instance !== '')
      at.set(
        -1,
        section(b, OPT.BUFFER, desc.get('flyrecord') ?? -1, () => {}),
      );
    at.set(OPT.BUFFER, b.length);
    return { b, at };
  };

  const first = build(new Map(), []);
  const bufferAt = first.at.get(OPT.BUFFER)!;
  const bodyStart = bufferAt + 16;
  const { offsets, end } = placeCpus(bodyStart, h.pageSize, cpus);
  const { b, at } = build(first.at, offsets);
  const dataStart = offsets[0] ?? alignUp(bodyStart, h.pageSize);
  // The buffer section's header: its body is the padding and every CPU's pages.
  b.u16(OPT.BUFFER)
    .u16(0)
    .u32(desc.get(bufferName)!)
    .u64(Math.max(end, dataStart) - bodyStart);
  if (at.get(OPT.BUFFER) !== bufferAt) throw new Error('trace.dat layout moved between passes');
  return { head: padded(b, dataStart), offsets, size: Math.max(end, dataStart) };
}

/** Lays out a trace.dat of the given version around CPU page extents. */
export function layoutTraceDat(h: TraceDatHeader, cpus: readonly CpuExtent[]): TraceDatLayout {
  return h.version === 6 ? layoutV6(h, cpus) : layoutV7(h, cpus);
}
