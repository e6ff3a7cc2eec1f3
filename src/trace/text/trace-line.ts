/**
 * The `trace` / `trace_pipe` text: the header the kernel prints for the nop tracer and one line per record, with
 * the kernel's column widths and the output options that mean something for ntrace.
 */
import type { FieldLayout } from '../layout.js';
import type { EventDescriptor, TraceRecord } from '../record.js';
import { LineWriter } from './line-writer.js';
import { type PrintWriter, printWriterFor, rendererFor } from './print-format.js';
import { byteLength } from './printf.js';
import { dataLocBytes, readInteger, readSmallInt, readStringField } from './record-fields.js';
import { formatSecondsUsecs } from './timestamp.js';

/** The `trace_options` that change the text. Everything else the kernel has is listed in docs/TRACE-TEXT.md. */
export interface TraceTextOptions {
  /** `irq-info` (on): the five-character flags column. */
  readonly irqInfo: boolean;
  /** `context-info` (on): comm-pid, CPU, flags and timestamp before each line; the column header. */
  readonly contextInfo: boolean;
  /** `record-tgid` (off): a `(  tgid)` column. ntrace's threads all belong to one process: tgid = pid. */
  readonly recordTgid: boolean;
  /** `raw` (off): `<pid> <cpu> <ts-ns> ` and the kernel's raw event output (`type: <id>` for trace events). */
  readonly raw: boolean;
  /** `hex` (off): context as hex words, raw event output. */
  readonly hex: boolean;
  /** `fields` (off): every field as `name=value` in the kernel's generic field printer's format. */
  readonly fields: boolean;
  /** `printk-msg-only` (off): trace_marker lines show the message only. */
  readonly printkMsgOnly: boolean;
  /** `verbose` (off): for the non-latency format it only drops the column legend from the header. */
  readonly verbose: boolean;
  /** `annotate` (on): in `trace` after overruns, `##### CPU N buffer started ####` before each CPU's first line. */
  readonly annotate: boolean;
  /** False for counter-like trace clocks (`counter`, `uptime`): timestamps print as raw numbers. */
  readonly clockInNs: boolean;
}

export const DEFAULT_TRACE_TEXT_OPTIONS: TraceTextOptions = Object.freeze({
  irqInfo: true,
  contextInfo: true,
  recordTgid: false,
  raw: false,
  hex: false,
  fields: false,
  printkMsgOnly: false,
  verbose: false,
  annotate: true,
  clockInNs: true,
});

/**
 * Builds the text options from `trace_options` names (`irq-info`, `raw`, ...): `option(name)` answers whether an
 * option is on (undefined: use the kernel default). E.g. `traceTextOptions((n) => getOption(i, n), instanceClockInNs(i))`.
 */
export function traceTextOptions(option: (name: string) => boolean | undefined, clockInNs = true): TraceTextOptions {
  const d = DEFAULT_TRACE_TEXT_OPTIONS;
  const get = (name: string, dflt: boolean) => option(name) ?? dflt;
  return {
    irqInfo: get('irq-info', d.irqInfo),
    contextInfo: get('context-info', d.contextInfo),
    recordTgid: get('record-tgid', d.recordTgid),
    raw: get('raw', d.raw),
    hex: get('hex', d.hex),
    fields: get('fields', d.fields),
    printkMsgOnly: get('printk-msg-only', d.printkMsgOnly),
    verbose: get('verbose', d.verbose),
    annotate: get('annotate', d.annotate),
    clockInNs,
  };
}

/** The trace_marker event: `ftrace:print` with a `buf` string (and optionally an `ip` word) prints as the kernel's. */
export const MARKER_SYSTEM = 'ftrace';
export const MARKER_EVENT = 'print';
/** The symbol the kernel prints for its marker's ip. */
export const MARKER_SYMBOL = 'tracing_mark_write';
/** trace_marker_raw's event: `ftrace:raw_data` with an `id` u32 and a `buf` byte string. */
export const RAW_MARKER_EVENT = 'raw_data';
/** The `stacktrace` trigger's event: `ftrace:kernel_stack`, `size` frames in the newline-separated `caller` string. */
export const STACK_EVENT = 'kernel_stack';

const TASK_COMM_LEN = 16;
const encoder = new TextEncoder();

export interface TraceHeaderInfo {
  /** Entries currently in the buffer(s) being read. */
  readonly entries: number;
  /** Entries written: in the buffer plus overwritten (the kernel adds the overrun count). */
  readonly written: number;
  /** Number of "CPUs" (`#P:`): ring buffers of the instance. */
  readonly cpus: number;
  /** The tracer's name; always `nop` in ntrace. */
  readonly tracer?: string;
}

/** The header the `trace` file starts with (not `trace_pipe`). */
export function traceHeader(info: TraceHeaderInfo, options: TraceTextOptions = DEFAULT_TRACE_TEXT_OPTIONS): string {
  let s = `# tracer: ${info.tracer ?? 'nop'}\n#\n`;
  if (!options.contextInfo || options.verbose) return s;
  s += `# entries-in-buffer/entries-written: ${info.entries}/${info.written}   #P:${info.cpus}\n#\n`;
  const tgid = options.recordTgid;
  if (options.irqInfo) {
    const pad = tgid ? '          ' : '';
    s +=
      `#                            ${pad}    _-----=> irqs-off/BH-disabled\n` +
      `#                            ${pad}   / _----=> need-resched\n` +
      `#                            ${pad}  | / _---=> hardirq/softirq\n` +
      `#                            ${pad}  || / _--=> preempt-depth\n` +
      `#                            ${pad}  ||| / _-=> migrate-disable\n` +
      `#                            ${pad}  |||| /     delay\n`;
    s += tgid
      ? '#           TASK-PID       TGID    CPU#  |||||  TIMESTAMP  FUNCTION\n' +
        '#              | |           |       |   |||||     |         |\n'
      : '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n' +
        '#              | |         |   |||||     |         |\n';
  } else {
    s += tgid
      ? '#           TASK-PID       TGID    CPU#     TIMESTAMP  FUNCTION\n' +
        '#              | |           |       |         |         |\n'
      : '#           TASK-PID     CPU#     TIMESTAMP  FUNCTION\n' +
        '#              | |         |         |         |\n';
  }
  return s;
}

/** The kernel's trace_print_lat_fmt(): irqs-off, need-resched, hard/softirq, preempt depth, migrate-disable. */
export function latencyFlags(flags: number, preemptCount: number): string {
  const IRQS_OFF = 0x01;
  const NEED_RESCHED_LAZY = 0x02;
  const NEED_RESCHED = 0x04;
  const HARDIRQ = 0x08;
  const SOFTIRQ = 0x10;
  const PREEMPT_RESCHED = 0x20;
  const NMI = 0x40;
  const BH_OFF = 0x80;
  const irqsOff = flags & IRQS_OFF && flags & BH_OFF ? 'D' : flags & IRQS_OFF ? 'd' : flags & BH_OFF ? 'b' : '.';
  let resched: string;
  switch (flags & (NEED_RESCHED | NEED_RESCHED_LAZY | PREEMPT_RESCHED)) {
    case NEED_RESCHED | NEED_RESCHED_LAZY | PREEMPT_RESCHED:
      resched = 'B';
      break;
    case NEED_RESCHED | PREEMPT_RESCHED:
      resched = 'N';
      break;
    case NEED_RESCHED_LAZY | PREEMPT_RESCHED:
      resched = 'L';
      break;
    case NEED_RESCHED | NEED_RESCHED_LAZY:
      resched = 'b';
      break;
    case NEED_RESCHED:
      resched = 'n';
      break;
    case PREEMPT_RESCHED:
      resched = 'p';
      break;
    case NEED_RESCHED_LAZY:
      resched = 'l';
      break;
    default:
      resched = '.';
  }
  const nmi = flags & NMI;
  const hard = flags & HARDIRQ;
  const soft = flags & SOFTIRQ;
  const irq = nmi && hard ? 'Z' : nmi ? 'z' : hard && soft ? 'H' : hard ? 'h' : soft ? 's' : '.';
  const depth = preemptCount & 0xf ? (preemptCount & 0xf).toString(16) : '.';
  const migrate = preemptCount & 0xf0 ? (preemptCount >> 4).toString(16) : '.';
  return irqsOff + resched + irq + depth + migrate;
}

/** The comm column: at most TASK_COMM_LEN-1 bytes like a kernel task name; `<...>` when unknown. */
function commText(comm: string): string {
  if (!comm) return '<...>';
  if (byteLength(comm) < TASK_COMM_LEN) return comm;
  let out = '';
  for (const ch of comm) {
    if (byteLength(out + ch) >= TASK_COMM_LEN) break;
    out += ch;
  }
  return out;
}

function padStartBytes(s: string, width: number): string {
  const n = width - byteLength(s);
  return n > 0 ? ' '.repeat(n) + s : s;
}

/** Timestamp column: ` %5lu.%06lu` for time clocks, ` %12llu` for counters. */
export function formatTimestamp(ts: bigint, clockInNs: boolean): string {
  return clockInNs ? formatSecondsUsecs(ts) : (ts < 0n ? 0n : ts).toString().padStart(12);
}

/**
 * The columns before the timestamp, `            node-1234    [000] ..... `, as bytes, by pid: the same few threads
 * print millions of lines, so each line copies one template. Made again when the comm, CPU, flags or the options
 * that shape them differ from the cached one.
 */
interface ContextColumns {
  readonly comm: string;
  readonly pid: number;
  /** Latency flags and preempt count packed (`flags << 8 | preempt`), -1 without the irq-info column. */
  readonly irq: number;
  readonly tgid: boolean;
  readonly bytes: Uint8Array;
}

/** By CPU (each emitting thread has its own): the pid is the process's, the same for every thread. */
const contextColumns = new Map<number, ContextColumns>();

function contextColumnsOf(rec: TraceRecord, options: TraceTextOptions): Uint8Array {
  const irq = options.irqInfo ? ((rec.data[2] ?? 0) << 8) | (rec.data[3] ?? 0) : -1;
  const hit = contextColumns.get(rec.cpu);
  if (
    hit !== undefined &&
    hit.comm === rec.comm &&
    hit.pid === rec.pid &&
    hit.irq === irq &&
    hit.tgid === options.recordTgid
  )
    return hit.bytes;
  let s = `${padStartBytes(commText(rec.comm), 16)}-${String(rec.pid).padEnd(7)} `;
  if (options.recordTgid) s += `(${String(rec.pid).padStart(7)}) `;
  s += `[${String(rec.cpu).padStart(3, '0')}] `;
  if (irq >= 0) s += irq === 0 ? '.....' : latencyFlags(irq >> 8, irq & 0xff);
  const bytes = encoder.encode(`${s} `);
  if (contextColumns.size >= 1024) contextColumns.clear();
  contextColumns.set(rec.cpu, { comm: rec.comm, pid: rec.pid, irq, tgid: options.recordTgid, bytes });
  return bytes;
}

const SPACE = 0x20;
const COLON = 0x3a;
const NEWLINE = 0x0a;

/** ` %5lu.%06lu` of a nanosecond timestamp (rounded to the microsecond), or ` %12llu` for counter clocks. */
function writeTimestamp(w: LineWriter, rec: TraceRecord, clockInNs: boolean): void {
  const ns = rec.tsNs ?? Number(rec.ts);
  if (clockInNs && ns >= 0 && ns < 9e15) {
    // Exact in doubles up to 2^53 µs; no BigInt division on the hot path of every line.
    w.secondsMicros(Math.floor((ns + 500) / 1000));
    return;
  }
  w.text(formatTimestamp(rec.ts, clockInNs));
}

/** The context part of a line: `            bash-5453    [000] ...1.   347.876374: `. */
function writeContext(w: LineWriter, rec: TraceRecord, options: TraceTextOptions): void {
  w.bytes(contextColumnsOf(rec, options));
  writeTimestamp(w, rec, options.clockInNs);
  w.byte(COLON);
  w.byte(SPACE);
}

/** What the line printer asks of an event on every line, worked out once per event. */
interface Shape {
  readonly marker: boolean;
  readonly rawMarker: boolean;
  readonly stack: boolean;
  readonly fields: ReadonlyMap<string, FieldLayout>;
  /** `<event>: ` as bytes, the fixed start of the event part of a line. */
  readonly prefix: Uint8Array;
  /** The marker's `buf` string field, when the event is the marker. */
  readonly markerBuf: FieldLayout | undefined;
  /** The event's print string, compiled. */
  readonly print: PrintWriter;
}

const shapes = new WeakMap<EventDescriptor, Shape>();
/** The last event asked about: runs of one event are the common case, and cheaper to check than the WeakMap. */
let lastEvent: EventDescriptor | undefined;
let lastShape: Shape | undefined;

function shapeOf(e: EventDescriptor): Shape {
  if (e === lastEvent && lastShape) return lastShape;
  let shape = shapes.get(e);
  if (!shape) {
    const fields = new Map<string, FieldLayout>();
    for (const f of e.layout.fields) if (!fields.has(f.name)) fields.set(f.name, f);
    const ftrace = e.system === MARKER_SYSTEM;
    shape = {
      marker: ftrace && e.name === MARKER_EVENT,
      rawMarker: ftrace && e.name === RAW_MARKER_EVENT,
      stack: ftrace && e.name === STACK_EVENT && fields.get('caller')?.kind === 'string',
      fields,
      prefix: encoder.encode(`${e.name}: `),
      markerBuf: undefined,
      print: printWriterFor(e),
    };
    if (shape.marker) shape = { ...shape, prefix: encoder.encode(`${MARKER_SYMBOL}: `), markerBuf: fields.get('buf') };
    shapes.set(e, shape);
  }
  lastEvent = e;
  lastShape = shape;
  return shape;
}

function isMarker(e: EventDescriptor): boolean {
  return shapeOf(e).marker;
}

function isStack(e: EventDescriptor): boolean {
  return shapeOf(e).stack;
}

function field(e: EventDescriptor, name: string): FieldLayout | undefined {
  return shapeOf(e).fields.get(name);
}

/** The marker's text, ending with exactly the newline the kernel's trace_marker write guarantees. */
function markerText(rec: TraceRecord, e: EventDescriptor): string {
  const buf = field(e, 'buf');
  const text = buf ? readStringField(rec.data, buf) : '';
  return text.endsWith('\n') ? text : `${text}\n`;
}

function markerIp(rec: TraceRecord, e: EventDescriptor): bigint {
  const ip = field(e, 'ip');
  return ip && ip.kind === 'int' ? readInteger(rec.data, ip.offset, ip.elemSize, false) : 0n;
}

function rawMarkerText(rec: TraceRecord, e: EventDescriptor): string {
  const id = field(e, 'id');
  const buf = field(e, 'buf');
  let s = `# ${(id ? readInteger(rec.data, id.offset, id.elemSize, false) : 0n).toString(16)} buf:`;
  if (buf) {
    // The engine stores trace_marker_raw's bytes as written (no terminating NUL) under the __data_loc word.
    const bytes =
      buf.kind === 'string' ? dataLocBytes(rec.data, buf) : rec.data.subarray(buf.offset, buf.offset + buf.size);
    for (const b of bytes) s += ` ${b.toString(16).padStart(2, '0')}`;
  }
  return `${s}\n`;
}

/** trace_stack_print(): `<stack trace>`, then one ` => frame` line per stored frame (at most `size` of them). */
function stackText(rec: TraceRecord, e: EventDescriptor): string {
  const caller = field(e, 'caller');
  const size = field(e, 'size');
  const text = caller ? readStringField(rec.data, caller) : '';
  const frames = text === '' ? [] : text.split('\n');
  const n =
    size && size.kind === 'int'
      ? Number(BigInt.asIntN(32, readInteger(rec.data, size.offset, size.elemSize, false)))
      : 0;
  let s = '<stack trace>\n';
  for (let i = 0; i < frames.length && i < n; i++) s += ` => ${frames[i]}\n`;
  return s;
}

/** The kernel's generic field printer (the `fields` option). */
function fieldsText(rec: TraceRecord, e: EventDescriptor): string {
  const d = rec.data;
  let s = `${e.name}:`;
  for (const f of e.layout.fields) {
    s += ` ${f.name}=`;
    if (f.kind === 'string' || f.kind === 'chars') {
      s += readStringField(d, f);
      continue;
    }
    if (f.offset + f.size > d.length) {
      s += '<OVERFLOW>';
      continue;
    }
    switch (f.size) {
      case 1: {
        const v = d[f.offset];
        if (v >= 0x20 && v < 0x7f) s += `'${String.fromCharCode(v)}'`;
        s += `(${v})`;
        break;
      }
      case 2: {
        const v = readInteger(d, f.offset, 2, false);
        s += `0x${v.toString(16)} (${v})`;
        break;
      }
      case 4: {
        const v = readInteger(d, f.offset, 4, false);
        s += `0x${v.toString(16)} (${BigInt.asIntN(32, v)})`;
        break;
      }
      case 8: {
        const v = readInteger(d, f.offset, 8, false);
        s += `0x${v.toString(16)} (${BigInt.asIntN(64, v)})`;
        break;
      }
      default:
        s += '<INVALID-SIZE>';
    }
  }
  return `${s}\n`;
}

/** trace_seq_putmem_hex(): the value's bytes, most significant first, then a space. */
function hexWord(v: bigint, bytes: number): string {
  return `${BigInt.asUintN(bytes * 8, v)
    .toString(16)
    .padStart(bytes * 2, '0')} `;
}

/**
 * One record as the `trace` and `trace_pipe` files print it, newline included, written into `w`. `lostEvents` > 0
 * prefixes the kernel's `CPU:N [LOST M EVENTS]` line (trace_pipe after an overrun). Never throws.
 */
export function writeTraceLine(w: LineWriter, rec: TraceRecord, options: TraceTextOptions, lostEvents = 0): void {
  const start = w.pos;
  try {
    if (lostEvents > 0) w.text(lostLine(rec, lostEvents));
    writeBody(w, rec, options);
  } catch (e) {
    w.pos = start;
    if (lostEvents > 0) w.text(lostLine(rec, lostEvents));
    w.text(`<render error: ${(e as Error)?.message}>\n`);
  }
}

function lostLine(rec: TraceRecord, lostEvents: number): string {
  return `CPU:${rec.cpu} [LOST ${lostEvents} EVENTS]\n`;
}

let scratchWriter: LineWriter | undefined;

/** A writer for one line that is turned into a string at once. */
function scratch(): LineWriter {
  scratchWriter ??= new LineWriter(1024);
  scratchWriter.pos = 0;
  return scratchWriter;
}

/** One record's line as a string: `writeTraceLine` for callers that want text rather than bytes. */
export function traceLine(
  rec: TraceRecord,
  options: TraceTextOptions = DEFAULT_TRACE_TEXT_OPTIONS,
  lostEvents = 0,
): string {
  const w = scratch();
  writeTraceLine(w, rec, options, lostEvents);
  return w.toString();
}

/** The marker's text, ending with exactly the newline the kernel's trace_marker write guarantees. */
function writeMarkerText(w: LineWriter, rec: TraceRecord, buf: FieldLayout | undefined): void {
  let last = -1;
  if (buf) {
    const d = rec.data;
    if (buf.kind === 'string') {
      const loc = readSmallInt(d, buf.offset, 4, false);
      const off = loc & 0xffff;
      if (off < d.length) last = w.utf8(d, off, Math.min(off + (loc >>> 16), d.length));
    } else {
      const from = Math.min(buf.offset, d.length);
      last = w.utf8(d, from, Math.min(buf.offset + buf.size, d.length));
    }
  }
  if (last !== NEWLINE) w.byte(NEWLINE);
}

function writeBody(w: LineWriter, rec: TraceRecord, o: TraceTextOptions): void {
  const e = rec.event;
  const shape = e ? shapeOf(e) : undefined;
  if (shape?.marker && o.printkMsgOnly) {
    writeMarkerText(w, rec, shape.markerBuf);
  } else if (o.hex || o.raw) {
    writeRawBody(w, rec, o, shape);
  } else {
    if (o.contextInfo) writeContext(w, rec, o);
    if (!e || !shape) w.text(`Unknown type ${rec.id}\n`);
    else if (o.fields) w.text(fieldsText(rec, e));
    else if (shape.marker) {
      w.bytes(shape.prefix);
      writeMarkerText(w, rec, shape.markerBuf);
    } else if (shape.rawMarker) w.text(rawMarkerText(rec, e));
    else if (shape.stack) w.text(stackText(rec, e));
    else {
      w.bytes(shape.prefix);
      shape.print(w, rec.data);
      w.byte(NEWLINE);
    }
  }
}

/** The `hex` and `raw` options' lines. */
function writeRawBody(w: LineWriter, rec: TraceRecord, o: TraceTextOptions, shape: Shape | undefined): void {
  const e = rec.event;
  if (o.hex) {
    let s = o.contextInfo ? hexWord(BigInt(rec.pid), 4) + hexWord(BigInt(rec.cpu), 4) + hexWord(rec.ts, 8) : '';
    if (e) s += `type: ${rec.id}\n`;
    w.text(`${s}\n`);
    return;
  }
  const s = o.contextInfo ? `${rec.pid} ${rec.cpu} ${rec.ts} ` : '';
  if (!e || !shape) w.text(`${s}${rec.id} ?\n`);
  else if (shape.marker) {
    w.text(`${s}# ${markerIp(rec, e).toString(16)} `);
    writeMarkerText(w, rec, shape.markerBuf);
  } else if (shape.rawMarker) w.text(s + rawMarkerText(rec, e));
  else w.text(`${s}type: ${rec.id}\n`);
}

/** The event part only (`<event>: <output>`, no newline): what a filter or hist consumer may want to show. */
export function eventText(rec: TraceRecord): string {
  const e = rec.event;
  if (!e) return `Unknown type ${rec.id}`;
  if (isMarker(e)) return `${MARKER_SYMBOL}: ${markerText(rec, e).slice(0, -1)}`;
  if (isStack(e)) return stackText(rec, e).slice(0, -1);
  return `${e.name}: ${rendererFor(e)(rec.data)}`;
}
