/**
 * The files of a trace instance (the mount root, or `instances/NAME`), of `per_cpu/cpuN/` and of `options/`: each
 * file's whole behaviour is one table entry (name, mode, ops). The root creates its files from the table; instance
 * directories and the per-CPU and options directories are kernfs template directories over it.
 */
import { readFileSync } from 'node:fs';
import { type FileOps, FsError, type OpenedFile, type TemplateFileSpec, type TemplateTable } from '../kernfs/index.js';
import { snapshotText, writeSnapshot } from '../trace/control/index.js';
import {
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
  setBufferSizeKb,
  setClock,
  setOption,
  setTracingOn,
  TraceIterator,
  writeMarker,
  writeMarkerRaw,
} from '../trace/engine.js';
import {
  availableEventsText,
  savedCmdlinesText,
  statsText,
  TextFileReader,
  traceFileText,
} from '../trace/text/index.js';
import { busyOps } from './busy.js';
import { check } from './control-hooks.js';
import { setEnabled } from './eventfs.js';
import { MODE_MARKER, MODE_RO, MODE_RW, MODE_WO } from './modes.js';
import { isWriteTrunc, parseBoolean, parseUnsigned, strippedWord } from './parse.js';
import { pipeOps, textOptionsOf } from './pipe.js';
import { rawPipeOps } from './raw-pipe.js';
import { readmeText } from './readme.js';
import { setEventText, writeSetEvent } from './set-event.js';
import { CpuDirData, isFtraceInternal, type TraceInstance } from './state.js';

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

/** One file of an instance: everything it is and does. `topOnly` files exist only at the top level, as in the kernel. */
export interface InstanceFile {
  readonly name: string;
  readonly mode: number;
  readonly ops: FileOps;
  readonly topOnly?: boolean;
}

/** The instance a top-level or instance file belongs to (root files carry it as priv, template files via their dir). */
export function instOf(file: OpenedFile): TraceInstance {
  return (file.node.priv ?? file.node.parent!.priv) as TraceInstance;
}
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

/** Options that change something in ntrace (the rest of the kernel's list means nothing for a Node process). */
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
] as const;

/** A text file generated at open and served by offset (the `trace` file). */
function generatedOps(
  make: (file: OpenedFile) => Iterable<string>,
): Pick<FileOps, 'read'> & { prepare(file: OpenedFile): void } {
  return {
    prepare(file) {
      file.priv = new TextFileReader(() => make(file));
    },
    read(file, offset, size) {
      return (file.priv as TextFileReader).read(offset, size);
    },
  };
}

function traceText(inst: TraceInstance, cpu: number | undefined): Iterable<string> {
  const totals = bufferTotals(inst.index, cpu);
  const options = textOptionsOf(inst);
  return traceFileText(
    { entries: totals.entries, written: totals.written, cpus: cpuCount() },
    new TraceIterator(inst.index, cpu),
    options,
  );
}

function traceOps(locate: (file: OpenedFile) => { inst: TraceInstance; cpu: number | undefined }): FileOps {
  const gen = generatedOps((file) => {
    const { inst, cpu } = locate(file);
    return traceText(inst, cpu);
  });
  return busyOps((f) => locate(f).inst, {
    open(file) {
      const { inst, cpu } = locate(file);
      if (isWriteTrunc(file)) clearBuffer(inst.index, cpu);
      gen.prepare(file);
    },
    read: gen.read,
    // Writes are accepted and ignored; clearing is O_TRUNC's job (`echo > trace`).
    write: () => undefined,
  });
}

const whole = (file: OpenedFile) => ({ inst: instOf(file), cpu: undefined });
const oneCpu = (file: OpenedFile) => {
  const d = cpuDirOf(file);
  return { inst: d.inst, cpu: d.cpu };
};

function bufferSizeOps(): FileOps {
  return Object.freeze({
    show: (file: OpenedFile) => `${bufferSizeKb(locateInst(file).index)}\n`,
    write(file: OpenedFile, data: Uint8Array) {
      const kb = parseUnsigned(data);
      if (kb === 0n) throw new FsError('EINVAL');
      // The kernel parses any unsigned long and fails only when allocating: a size beyond our cap is ENOMEM.
      if (kb > 1n << 30n) throw new FsError('ENOMEM');
      try {
        setBufferSizeKb(locateInst(file).index, Number(kb));
      } catch (err) {
        instanceError(err);
      }
      return undefined;
    },
  } satisfies FileOps);
}

/** The instance of a root/instance file or of a per_cpu file. */
function locateInst(file: OpenedFile): TraceInstance {
  const p = file.node.priv ?? file.node.parent!.priv;
  return p instanceof CpuDirData ? p.inst : (p as TraceInstance);
}

const text = (f: (inst: TraceInstance) => string): FileOps =>
  Object.freeze({ show: (file: OpenedFile) => f(instOf(file)) });

export const INSTANCE_FILES: readonly InstanceFile[] = Object.freeze([
  { name: 'README', mode: MODE_RO, topOnly: true, ops: Object.freeze({ show: () => readmeText() }) },
  {
    name: 'available_events',
    mode: MODE_RO,
    topOnly: true,
    ops: Object.freeze({
      show: () => availableEventsText(listEvents().filter((e) => !isFtraceInternal(e))),
    }),
  },
  { name: 'available_tracers', mode: MODE_RO, ops: text(() => 'nop\n') },
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
    ops: busyOps(instOf, {
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
    topOnly: true,
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
  {
    name: 'set_event',
    mode: MODE_RW,
    ops: busyOps(instOf, {
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
          check(writeSnapshot(instOf(file).index, parseUnsigned(data)));
          return undefined;
        },
      } satisfies FileOps);
    })(),
  },
  { name: 'timestamp_mode', mode: MODE_RO, ops: text(() => '[delta] absolute\n') },
  { name: 'trace', mode: MODE_RW, ops: traceOps(whole) },
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
  { name: 'trace_pipe', mode: MODE_RO, ops: busyOps(instOf, pipeOps(whole)) },
  {
    name: 'tracing_on',
    mode: MODE_RW,
    ops: busyOps(instOf, {
      show: (file) => (isTracingOn(instOf(file).index) ? '1\n' : '0\n'),
      write(file, data) {
        setTracingOn(instOf(file).index, parseUnsigned(data) !== 0n);
        return undefined;
      },
    }),
  },
]);

function templateSpecs(files: readonly InstanceFile[], top: boolean): TemplateTable<unknown> {
  return Object.freeze(
    files
      .filter((f) => top || !f.topOnly)
      .map((f) => {
        const spec: TemplateFileSpec = Object.freeze({ mode: f.mode, ops: f.ops });
        return Object.freeze({ name: f.name, callback: () => spec });
      }),
  );
}

/** The table of an `instances/NAME` directory (no top-only files). */
export const INSTANCE_TABLE: TemplateTable<TraceInstance> = templateSpecs(INSTANCE_FILES, false);

/** `per_cpu/cpuN/`. */
export const PER_CPU_TABLE: TemplateTable<CpuDirData> = templateSpecs(
  [
    { name: 'buffer_size_kb', mode: MODE_RW, ops: bufferSizeOps() },
    {
      name: 'stats',
      mode: MODE_RO,
      ops: busyOps((f) => cpuDirOf(f).inst, {
        show(file) {
          const { inst, cpu } = cpuDirOf(file);
          return statsText(cpuStats(inst.index, cpu), instanceClockInNs(inst.index));
        },
      }),
    },
    { name: 'trace', mode: MODE_RW, ops: traceOps(oneCpu) },
    { name: 'trace_pipe', mode: MODE_RO, ops: pipeOps(oneCpu) },
    { name: 'trace_pipe_raw', mode: MODE_RO, ops: rawPipeOps },
  ],
  true,
);

/** `options/`: one file per supported option. */
export const OPTIONS_TABLE: TemplateTable<TraceInstance> = Object.freeze(
  SUPPORTED_OPTIONS.map((name) => {
    const spec: TemplateFileSpec = Object.freeze({
      mode: MODE_RW,
      ops: Object.freeze({
        show: (file: OpenedFile) => (getOption(instOf(file).index, name) ? '1\n' : '0\n'),
        write(file: OpenedFile, data: Uint8Array) {
          setOption(instOf(file).index, name, parseBoolean(data));
          return undefined;
        },
      } satisfies FileOps),
    });
    return Object.freeze({ name, callback: () => spec });
  }),
);
