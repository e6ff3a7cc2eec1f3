/**
 * Reading a trace.dat (v6 or v7, little endian, uncompressed — what `ntrace record` and trace-cmd write by default):
 * the formats and command names from the head, then the records of every CPU merged by timestamp, one page per CPU
 * in memory at a time.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { walkPage } from '../trace/raw-page.js';
import { type EventFormat, parseFormat } from './event-format.js';

export interface TraceDatRecord {
  readonly cpu: number;
  /** Nanoseconds of the trace clock. */
  readonly ts: number;
  /** The payload, from common_type on (valid until the next record of this CPU is read). */
  readonly data: Uint8Array;
}

export interface CpuData {
  readonly cpu: number;
  readonly offset: number;
  readonly size: number;
}

const MAGIC = [0x17, 0x08, 0x44];

/** A cursor over the file's bytes with the little-endian reads the format needs. */
class FileCursor {
  private readonly fd: number;
  pos = 0;

  constructor(fd: number) {
    this.fd = fd;
  }

  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    let done = 0;
    while (done < n) {
      const got = readSync(this.fd, b, done, n - done, this.pos + done);
      if (got === 0) throw new TraceDatError(`unexpected end of file at ${this.pos + done}`);
      done += got;
    }
    this.pos += n;
    return b;
  }

  /** Moves past `n` bytes (`pos += read()` would add to the position from before the read). */
  skip(n: number): void {
    this.pos += n;
  }

  u16 = () => this.bytes(2).readUInt16LE(0);
  u32 = () => this.bytes(4).readUInt32LE(0);
  u64 = () => Number(this.bytes(8).readBigUInt64LE(0));

  cstr(): string {
    const parts: Buffer[] = [];
    for (;;) {
      const b = this.bytes(1);
      if (b[0] === 0) return Buffer.concat(parts).toString('utf8');
      parts.push(b);
    }
  }
}

export class TraceDatError extends Error {
  override readonly name = 'TraceDatError';
}

export class TraceDatReader {
  readonly version: number;
  readonly pageSize: number;
  readonly formats = new Map<number, EventFormat>();
  readonly comms = new Map<number, string>();
  /** The buffer read: the top level, or the first instance with data. */
  buffer = '';
  cpus: CpuData[] = [];
  private readonly fd: number;

  constructor(path: string) {
    this.fd = openSync(path, 'r');
    try {
      const c = new FileCursor(this.fd);
      const head = c.bytes(10);
      if (!MAGIC.every((v, i) => head[i] === v) || head.subarray(3).toString() !== 'tracing')
        throw new TraceDatError(`${path}: not a trace.dat file`);
      this.version = Number(c.cstr());
      const [endian, longSize] = c.bytes(2);
      if (endian !== 0) throw new TraceDatError(`${path}: big-endian trace.dat files are not supported`);
      if (longSize !== 8 && longSize !== 4) throw new TraceDatError(`${path}: bad long size ${longSize}`);
      this.pageSize = c.u32();
      if (this.version === 6) this.readV6(c);
      else if (this.version === 7) this.readV7(c);
      else throw new TraceDatError(`${path}: trace.dat version ${this.version} is not supported (6 and 7 are)`);
      const size = fstatSync(this.fd).size;
      for (const cpu of this.cpus)
        if (cpu.offset + cpu.size > size)
          throw new TraceDatError(`${path}: truncated (cpu${cpu.cpu} data past the end)`);
    } catch (err) {
      closeSync(this.fd);
      throw err;
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  private headerInfo(c: FileCursor): void {
    for (const name of ['header_page', 'header_event']) {
      if (c.cstr() !== name) throw new TraceDatError(`expected ${name}`);
      c.skip(c.u64());
    }
  }

  private ftraceFormats(c: FileCursor): void {
    for (let n = c.u32(); n > 0; n--) this.addFormat('ftrace', c.bytes(c.u64()).toString('utf8'));
  }

  private eventFormats(c: FileCursor): void {
    for (let systems = c.u32(); systems > 0; systems--) {
      const system = c.cstr();
      for (let n = c.u32(); n > 0; n--) this.addFormat(system, c.bytes(c.u64()).toString('utf8'));
    }
  }

  private addFormat(system: string, text: string): void {
    const f = parseFormat(system, text);
    if (f) this.formats.set(f.id, f);
  }

  private cmdlines(c: FileCursor): void {
    for (const line of c.bytes(c.u64()).toString('utf8').split('\n')) {
      const m = /^\s*([0-9]+) (.*)$/.exec(line);
      if (m) this.comms.set(Number(m[1]), m[2]);
    }
  }

  private readV6(c: FileCursor): void {
    this.headerInfo(c);
    this.ftraceFormats(c);
    this.eventFormats(c);
    c.skip(c.u32()); // kallsyms
    c.skip(c.u32()); // printk formats
    this.cmdlines(c);
    const cpus = c.u32();
    let kind = c.bytes(10).toString('latin1');
    if (kind.startsWith('options')) {
      for (let id = c.u16(); id !== 0; id = c.u16()) c.skip(c.u32());
      kind = c.bytes(10).toString('latin1');
    }
    if (!kind.startsWith('flyrecord')) throw new TraceDatError('only flyrecord trace.dat files are supported');
    for (let cpu = 0; cpu < cpus; cpu++) this.cpus.push({ cpu, offset: c.u64(), size: c.u64() });
  }

  private readV7(c: FileCursor): void {
    const compression = c.cstr();
    c.cstr();
    if (compression !== 'none') throw new TraceDatError(`compressed trace.dat (${compression}) is not supported`);
    let options = c.u64();
    const sections = new Map<number, number>();
    const buffers: { name: string; cpus: CpuData[] }[] = [];
    while (options !== 0) {
      c.pos = options;
      if (c.u16() !== 0) throw new TraceDatError('bad options section');
      c.skip(2 + 4 + 8);
      options = 0;
      for (;;) {
        const id = c.u16();
        const size = c.u32();
        const end = c.pos + size;
        if (id === 0) {
          options = c.u64();
          break;
        }
        if (id === 3) {
          c.u64();
          const name = c.cstr();
          c.cstr(); // clock
          c.u32(); // page size
          const cpus: CpuData[] = [];
          for (let n = c.u32(); n > 0; n--) cpus.push({ cpu: c.u32(), offset: c.u64(), size: c.u64() });
          buffers.push({ name, cpus });
        } else if (id >= 16 && id <= 21) sections.set(id, c.u64());
        c.pos = end;
      }
    }
    const at = (id: number): boolean => {
      const off = sections.get(id);
      if (off === undefined) return false;
      c.pos = off + 16;
      return true;
    };
    if (at(16)) this.headerInfo(c);
    if (at(17)) this.ftraceFormats(c);
    if (at(18)) this.eventFormats(c);
    if (at(21)) this.cmdlines(c);
    const chosen = buffers.find((b) => b.name === '' && b.cpus.length > 0) ?? buffers.find((b) => b.cpus.length > 0);
    this.buffer = chosen?.name ?? '';
    this.cpus = chosen?.cpus ?? [];
  }

  /** Every record of the buffer, merged across CPUs by timestamp. */
  *records(): Generator<TraceDatRecord> {
    const streams = this.cpus.filter((c) => c.size > 0).map((c) => cpuRecords(this.fd, c, this.pageSize));
    const heads: { rec: TraceDatRecord; it: Generator<TraceDatRecord> }[] = [];
    for (const it of streams) {
      const r = it.next();
      if (!r.done) heads.push({ rec: r.value, it });
    }
    // CPUs are few: a linear scan for the oldest head beats a heap's bookkeeping.
    while (heads.length > 0) {
      let min = 0;
      for (let i = 1; i < heads.length; i++) if (heads[i].rec.ts < heads[min].rec.ts) min = i;
      const h = heads[min];
      yield h.rec;
      const r = h.it.next();
      if (r.done) heads.splice(min, 1);
      else h.rec = r.value;
    }
  }
}

/** One CPU's records, page by page (the page walker of src/trace/raw-page.ts: the kernel's sub-buffer format). */
function* cpuRecords(fd: number, cpu: CpuData, pageSize: number): Generator<TraceDatRecord> {
  const page = Buffer.alloc(pageSize);
  const records: TraceDatRecord[] = [];
  // Shorter than the common fields (type, flags, preempt count, pid): not a record any event format can read.
  const collect = {
    record(ts: number, p: Uint8Array, at: number, len: number) {
      if (len >= 8) records.push({ cpu: cpu.cpu, ts, data: p.subarray(at, at + len) });
    },
  };
  for (let at = cpu.offset; at + pageSize <= cpu.offset + cpu.size; at += pageSize) {
    if (readSync(fd, page, 0, pageSize, at) !== pageSize) return;
    records.length = 0;
    walkPage(page, collect);
    yield* records;
  }
}
