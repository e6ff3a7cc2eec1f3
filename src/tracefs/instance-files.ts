/**
 * The files of a trace instance (the mount root, or `instances/NAME`), of `per_cpu/cpuN/` and of `options/`: each
 * file's whole behaviour is one table row (`{ name, mode, ops, busy?, when? }`, see table.ts). The root creates its
 * files from the table; instance directories and the per-CPU and options directories are kernfs template
 * directories over it.
 */
import { readFileSync } from 'node:fs';
import { checkErrno, type FileOps, FsError, type OpenedFile, type TemplateTable } from '../kernfs/index.js';
import {
  availableEventsText,
  bufferSizeKb,
  bufferTotalSizeKb,
  bufferTotals,
  CLOCK_NAMES,
  clearBuffer,
  clockName,
  cpuCount,
  cpuName,
  cpuStats,
  getOption,
  InstanceError,
  instanceClockInNs,
  isTracingOn,
  listEvents,
  MARKER_MAX,
  savedCmdlinesText,
  setBufferSizeKb,
  setClock,
  setOption,
  setTracingOn,
  snapshotText,
  statsText,
  TextFileReader,
  type TextSource,
  TraceIterator,
  traceFileText,
  writeMarker,
  writeMarkerRaw,
  writeSnapshot,
} from '../trace/index.js';
import { setEnabled } from './eventfs.js';
import { MODE_MARKER, MODE_RO, MODE_RW, MODE_WO } from './modes.js';
import { isWriteTrunc, parseBoolean, parseUnsigned, strippedWord } from './parse.js';
import { pipeOps, textOptionsOf } from './pipe.js';
import { rawPipeOps } from './raw-pipe.js';
import { readmeText } from './readme.js';
import { setEventText, writeSetEvent } from './set-event.js';
import type { CpuDirData } from './state.js';
import { instanceOf, isFtraceInternal, type TraceInstance } from './state.js';
import { fileTable } from './table.js';

/** What closing `free_buffer` does: the kernel's tracing_free_buffer_release. */
function freeBuffers(inst: TraceInstance): void {
  if (getOption(inst.index, 'disable_on_free')) setTracingOn(inst.index, false);
  try {
    setBufferSizeKb(inst.index, FREED_BUFFER_KB);
  } catch {
    // The instance went away meanwhile (ENOENT): nothing left to free.
  }
}

/** buffer_size_kb after free_buffer: the kernel's two-page minimum, 2 × 4080 bytes >> 10. */
const FREED_BUFFER_KB = 7;

const instOf = instanceOf;
/** Files that exist only at the top level, as in the kernel. */
const topOnly = (inst: TraceInstance): boolean => inst.isTop;
const cpuDirOf = (file: OpenedFile): CpuDirData => file.node.parent!.priv as CpuDirData;

function instanceError(err: unknown): never {
  if (err instanceof InstanceError) throw new FsError(err.code, err.message);
  throw err;
}

/** The writing process's name, for the marker's `<comm>-<pid>` column (as the kernel shows the writer's). */
function writerComm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The kernel refuses marker writes with EBADF while tracing is off and EINVAL while the `markers` option is off. */
function checkMarkers(inst: TraceInstance): void {
  if (!isTracingOn(inst.index)) throw new FsError('EBADF');
  if (getOption(inst.index, 'markers') === false) throw new FsError('EINVAL');
}

/**
 * Options that change something in ntrace (the rest of the kernel's list means nothing for a Node process), and
 * `function-trace`, which trace-cmd writes on every record: kept (default on, as the kernel's) though ntrace has no
 * function tracer for it to switch.
 */
export const SUPPORTED_OPTIONS = [
  'verbose',
  'raw',
  'hex',
  'fields',
  'annotate',
  'printk-msg-only',
  'context-info',
  'record-cmd',
  'record-tgid',
  'overwrite',
  'irq-info',
  'markers',
  'disable_on_free',
  'function-trace',
] as const;

/** A text file generated at open and served by offset (the `trace` file). */
function generatedOps(
  make: (file: OpenedFile) => TextSource,
): Pick<FileOps, 'read'> & { prepare(file: OpenedFile): void } {
  return {
    prepare(file) {
      file.priv = new TextFileReader(() => make(file));
    },
    read(file, offset, size, ctx) {
      return (file.priv as TextFileReader).read(offset, size, ctx.replyBuffer);
    },
  };
}

function traceText(inst: TraceInstance, cpu: number | undefined): TextSource {
  const totals = bufferTotals(inst.index, cpu);
  const options = textOptionsOf(inst);
  const reader = new TraceIterator(inst.index, cpu, { reuse: true });
  return traceFileText(
    { entries: totals.entries, written: totals.written, cpus: cpuCount() },
    () => reader.next(),
    options,
  );
}

function traceOps(locate: (file: OpenedFile) => { inst: TraceInstance; cpu: number | undefined }): FileOps {
  const gen = generatedOps((file) => {
    const { inst, cpu } = locate(file);
    return traceText(inst, cpu);
  });
  return Object.freeze({
    open(file: OpenedFile) {
      const { inst, cpu } = locate(file);
      if (isWriteTrunc(file)) clearBuffer(inst.index, cpu);
      gen.prepare(file);
    },
    read: gen.read,
    // Writes are accepted and ignored; clearing is O_TRUNC's job (`echo > trace`).
    write: () => undefined,
  } satisfies FileOps);
}

const whole = (file: OpenedFile) => ({ inst: instOf(file), cpu: undefined });
const oneCpu = (file: OpenedFile) => {
  const d = cpuDirOf(file);
  return { inst: d.inst, cpu: d.cpu };
};

function bufferSizeOps(): FileOps {
  return Object.freeze({
    show: (file: OpenedFile) => `${bufferSizeKb(instanceOf(file).index)}\n`,
    write(file: OpenedFile, data: Uint8Array) {
      const kb = parseUnsigned(data);
      if (kb === 0n) throw new FsError('EINVAL');
      // The kernel parses any unsigned long and fails only when allocating: a size beyond our cap is ENOMEM.
      if (kb > 1n << 30n) throw new FsError('ENOMEM');
      try {
        setBufferSizeKb(instanceOf(file).index, Number(kb));
      } catch (err) {
        instanceError(err);
      }
      return undefined;
    },
  } satisfies FileOps);
}

const text = (f: (inst: TraceInstance) => string): FileOps =>
  Object.freeze({ show: (file: OpenedFile) => f(instOf(file)) });

/** A file whose text never changes while it exists (kernfs's ConstantOp: its real size, kept in the page cache). */
const constant = (f: () => string): FileOps => Object.freeze({ constant: f });

/**
 * The files of the mount root and of `instances/NAME`: the root creates its files from this table (with the top
 * instance as data), instance directories are template directories over it.
 */
export const INSTANCE_TABLE: TemplateTable<TraceInstance> = fileTable<TraceInstance>([
  { name: 'README', mode: MODE_RO, when: topOnly, ops: constant(() => readmeText()) },
  {
    name: 'available_events',
    mode: MODE_RO,
    when: topOnly,
    ops: Object.freeze({
      show: () => availableEventsText(listEvents().filter((e) => !isFtraceInternal(e))),
    }),
  },
  { name: 'available_tracers', mode: MODE_RO, ops: constant(() => 'nop\n') },
  { name: 'buffer_size_kb', mode: MODE_RW, ops: bufferSizeOps() },
  { name: 'buffer_total_size_kb', mode: MODE_RO, ops: text((inst) => `${bufferTotalSizeKb(inst.index)}\n`) },
  {
    name: 'current_tracer',
    mode: MODE_RW,
    ops: Object.freeze({
      show: () => 'nop\n',
      write(_file: OpenedFile, data: Uint8Array) {
        if (strippedWord(data) !== 'nop') throw new FsError('EINVAL');
        return undefined;
      },
    } satisfies FileOps),
  },
  {
    name: 'error_log',
    mode: MODE_RW,
    busy: true,
    ops: Object.freeze({
      open(file) {
        if (isWriteTrunc(file)) instOf(file).errorLog.clear();
      },
      show: (file) => instOf(file).errorLog.text(),
      write: () => undefined,
    }),
  },
  // Closing it shrinks the buffers to the minimum, as the kernel does (two pages a CPU: buffer_size_kb then reads 7), so
  // a tracing process that holds it open frees them when it exits; with `disable_on_free`, tracing stops first.
  {
    name: 'free_buffer',
    mode: MODE_WO,
    ops: Object.freeze({ write: () => undefined, release: (file: OpenedFile) => freeBuffers(instOf(file)) }),
  },
  {
    name: 'saved_cmdlines',
    mode: MODE_RO,
    when: topOnly,
    ops: Object.freeze({
      show() {
        const seen = new Set<string>();
        const entries: { pid: number; comm: string }[] = [];
        for (let cpu = 0; cpu < cpuCount(); cpu++) {
          const comm = cpuName(cpu);
          if (seen.has(comm)) continue;
          seen.add(comm);
          entries.push({ pid: process.pid, comm });
        }
        return savedCmdlinesText(entries);
      },
    }),
  },
  // The tgid of each pid that recorded: every thread's common_pid is the process id, which is its own tgid.
  {
    name: 'saved_tgids',
    mode: MODE_RO,
    when: topOnly,
    ops: constant(() => `${process.pid} ${process.pid}\n`),
  },
  // trace_printk() formats: a Node.js process has none (trace-cmd reads the file into every recording).
  { name: 'printk_formats', mode: MODE_RO, when: topOnly, ops: constant(() => '') },
  {
    name: 'set_event',
    mode: MODE_RW,
    busy: true,
    ops: Object.freeze({
      open(file) {
        if (isWriteTrunc(file)) {
          const inst = instOf(file);
          setEnabled(inst, inst.events.values(), false);
        }
      },
      show: (file) => setEventText(instOf(file)),
      write: (file, data) => writeSetEvent(instOf(file), data),
      shortWrites: true,
    }),
  },
  {
    name: 'snapshot',
    mode: MODE_RW,
    ops: (() => {
      const gen = generatedOps((file) => {
        const inst = instOf(file);
        return snapshotText(inst.index, textOptionsOf(inst));
      });
      return Object.freeze({
        open: (file: OpenedFile) => gen.prepare(file),
        read: gen.read,
        // 0 frees the snapshot buffer, 1 allocates it and swaps it with the live one, any other number clears it.
        write(file: OpenedFile, data: Uint8Array) {
          checkErrno(writeSnapshot(instOf(file).index, parseUnsigned(data)));
          return undefined;
        },
      } satisfies FileOps);
    })(),
  },
  { name: 'timestamp_mode', mode: MODE_RO, ops: text(() => '[delta] absolute\n') },
  { name: 'trace', mode: MODE_RW, busy: true, ops: traceOps(whole) },
  {
    name: 'trace_clock',
    mode: MODE_RW,
    ops: Object.freeze({
      show: (file: OpenedFile) => {
        const cur = clockName(instOf(file).index);
        return `${CLOCK_NAMES.map((c) => (c === cur ? `[${c}]` : c)).join(' ')}\n`;
      },
      write(file: OpenedFile, data: Uint8Array) {
        if (!setClock(instOf(file).index, strippedWord(data))) throw new FsError('EINVAL');
        return undefined;
      },
    } satisfies FileOps),
  },
  {
    name: 'trace_marker',
    mode: MODE_MARKER,
    ops: Object.freeze({
      write(file: OpenedFile, data: Uint8Array, _offset: number, ctx) {
        const inst = instOf(file);
        checkMarkers(inst);
        const n = writeMarker(inst.index, data, ctx.cred.pid, writerComm(ctx.cred.pid));
        if (n === 0 && data.length > 0) throw new FsError('EBADF');
        return n;
      },
      shortWrites: true,
    } satisfies FileOps),
  },
  {
    name: 'trace_marker_raw',
    mode: MODE_MARKER,
    ops: Object.freeze({
      write(file: OpenedFile, data: Uint8Array, _offset: number, ctx) {
        const inst = instOf(file);
        checkMarkers(inst);
        // The kernel refuses a raw record too big for one event rather than cutting it (trace_marker cuts).
        if (data.length > MARKER_MAX) throw new FsError('EINVAL');
        const n = writeMarkerRaw(inst.index, data, ctx.cred.pid, writerComm(ctx.cred.pid));
        if (n < 0) throw new FsError('EINVAL');
        if (n === 0) throw new FsError('EBADF');
        return n;
      },
      shortWrites: true,
    } satisfies FileOps),
  },
  {
    name: 'trace_options',
    mode: MODE_RW,
    ops: Object.freeze({
      show(file: OpenedFile) {
        const i = instOf(file).index;
        return SUPPORTED_OPTIONS.map((o) => `${getOption(i, o) ? '' : 'no'}${o}\n`).join('');
      },
      write(file: OpenedFile, data: Uint8Array) {
        const word = strippedWord(data);
        const neg = word.startsWith('no');
        const name = neg ? word.slice(2) : word;
        if (!(SUPPORTED_OPTIONS as readonly string[]).includes(name)) throw new FsError('EINVAL');
        setOption(instOf(file).index, name, !neg);
        return undefined;
      },
    } satisfies FileOps),
  },
  { name: 'trace_pipe', mode: MODE_RO, busy: true, ops: pipeOps(whole) },
  {
    name: 'tracing_on',
    mode: MODE_RW,
    busy: true,
    ops: Object.freeze({
      show: (file) => (isTracingOn(instOf(file).index) ? '1\n' : '0\n'),
      write(file, data) {
        setTracingOn(instOf(file).index, parseUnsigned(data) !== 0n);
        return undefined;
      },
    }),
  },
]);

/** `per_cpu/cpuN/`. */
export const PER_CPU_TABLE: TemplateTable<CpuDirData> = fileTable<CpuDirData>([
  { name: 'buffer_size_kb', mode: MODE_RW, ops: bufferSizeOps() },
  {
    name: 'stats',
    mode: MODE_RO,
    busy: true,
    ops: {
      show(file) {
        const { inst, cpu } = cpuDirOf(file);
        return statsText(cpuStats(inst.index, cpu), instanceClockInNs(inst.index));
      },
    },
  },
  { name: 'trace', mode: MODE_RW, busy: true, ops: traceOps(oneCpu) },
  { name: 'trace_pipe', mode: MODE_RO, ops: pipeOps(oneCpu) },
  { name: 'trace_pipe_raw', mode: MODE_RO, ops: rawPipeOps },
]);

/** `options/`: one file per supported option. */
export const OPTIONS_TABLE: TemplateTable<TraceInstance> = fileTable<TraceInstance>(
  SUPPORTED_OPTIONS.map((name) => ({
    name,
    mode: MODE_RW,
    ops: Object.freeze({
      show: (file: OpenedFile) => (getOption(instOf(file).index, name) ? '1\n' : '0\n'),
      write(file: OpenedFile, data: Uint8Array) {
        setOption(instOf(file).index, name, parseBoolean(data));
        return undefined;
      },
    } satisfies FileOps),
  })),
);
