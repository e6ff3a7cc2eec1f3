/**
 * The engine's control and read API for the layers above (tracefs) and the control languages. Usable from any
 * thread that shares the engine's state (workers created after ntrace was first imported in the main thread do
 * automatically; see shared-state.ts). Instances are addressed by index (TOP_INSTANCE = 0), events by id.
 */
import { type CpuStats, clearRing, ringEntries, ringOverrun, ringStats, ringsOf, takeRawPage } from './buffers.js';
import { FTRACE_KERNEL_STACK_ID, FTRACE_PRINT_ID, FTRACE_RAW_DATA_ID } from './builtin-events.js';
import { clockId, clockInNs, readClock } from './clocks.js';
import { context } from './context.js';
import { emitInto } from './emitter.js';
import { encodeRaw } from './encoder.js';
import { BUSY_BITS, confirmLive } from './event-status.js';
import * as inst from './instances.js';
import type { EventDescriptor } from './record.js';
import { openRing } from './ring.js';
import { RingCursor } from './ring-cursor.js';
import {
  H_BAD_VALUES,
  H_INTERNAL_ERRORS,
  H_REG_WAITERS,
  H_TRUNCATED,
  IE_ENABLED,
  IE_TRIGGER,
  MAX_CPUS,
  MAX_EVENTS,
  MAX_INSTANCES,
} from './shared-state.js';
import { rememberComm, cpuCount as sharedCpuCount } from './threads.js';

export type { CpuStats } from './buffers.js';
export { FTRACE_KERNEL_STACK_ID, FTRACE_PRINT_ID, FTRACE_RAW_DATA_ID } from './builtin-events.js';
export { CLOCK_NAMES, type ClockName, clockInNs } from './clocks.js';
export {
  DEFAULT_BUFFER_KB,
  InstanceError,
  OPTION_NAMES,
  type OptionName,
  TOP_INSTANCE,
} from './instances.js';
export { ConsumingReader, TraceIterator } from './readers.js';
export { DuplicateEventError, EventBusyError } from './registry.js';
export {
  attachSharedState,
  IE_ENABLED,
  IE_FILTER,
  IE_SOFT_MODE,
  IE_TRIGGER,
  isAttached,
  MAX_CPUS,
  MAX_EVENTS,
  MAX_INSTANCES,
  type SharedHandles,
  SOFT_TRIGGER,
  sharedHandles,
} from './shared-state.js';
export { setThreadName } from './threads.js';
export { allocateSharedWords, engineDoorbell, setWakeTarget } from './wake.js';

const s = () => context().s;

// ---------- events ----------

/** Live events, by id. */
export function listEvents(): EventDescriptor[] {
  return context().registry.list();
}

/** An event by id, live or removed (records of removed events still need their descriptor). */
export function getEvent(id: number): EventDescriptor | undefined {
  return context().registry.get(id);
}

export function findEvent(system: string, name: string): EventDescriptor | undefined {
  const id = context().registry.find(system, name);
  return id === undefined ? undefined : context().registry.get(id);
}

export function isEventLive(id: number): boolean {
  return context().registry.isLive(id);
}

/** Changes whenever an event is defined or removed, in any thread. */
export function registryGeneration(): number {
  return context().registry.generation();
}

/**
 * Rings the doorbell at the next registry change or instance creation/destruction (one-shot; arm, re-check the
 * generations, then sleep).
 */
export function armRegistryWakeup(): void {
  Atomics.store(s().header, H_REG_WAITERS, 1);
}

// ---------- enable state ----------

/** Turns recording of an event in an instance on/off; false when either is not live. */
export function setEventEnabled(instance: number, id: number, on: boolean): boolean {
  return inst.setEventEnabled(s(), instance, id, on);
}

export function isEventEnabled(instance: number, id: number): boolean {
  return inst.isEventEnabled(s(), instance, id);
}

/** The (instance, event) state word (IE_* bits); for the control languages. */
export function eventState(instance: number, id: number): number {
  if (!validIE(instance, id)) return 0;
  return Atomics.load(s().instEvent, instance * MAX_EVENTS + id);
}

/**
 * Sets and clears IE_* bits other than IE_ENABLED (use setEventEnabled for that one). IE_TRIGGER also keeps the
 * event's `enabled` true (SOFT_TRIGGER) while any instance has it, so the trigger provider sees its records.
 */
export function updateEventState(instance: number, id: number, set: number, clear: number): void {
  if (!validIE(instance, id)) return;
  const k = instance * MAX_EVENTS + id;
  const mask = ~IE_ENABLED;
  const st = s();
  const before = Atomics.load(st.instEvent, k);
  if (clear & mask) Atomics.and(st.instEvent, k, ~(clear & mask));
  if (set & mask) {
    Atomics.or(st.instEvent, k, set & mask);
    // Soft mode and triggers keep remove() away (EBUSY): bit first, then the status (event-status.ts).
    const busy = set & mask & BUSY_BITS;
    if (busy !== 0 && !confirmLive(st, id)) Atomics.and(st.instEvent, k, ~busy);
  }
  if (((before ^ Atomics.load(st.instEvent, k)) & IE_TRIGGER) !== 0) inst.recomputeSoft(st, id);
}

/**
 * Bumps the control generation of (instance, event): emitting threads ask their filter and trigger providers
 * again at their next record of it.
 */
export function bumpFilterGeneration(instance: number, id: number): number {
  if (!validIE(instance, id)) return 0;
  return Atomics.add(s().instFilterGen, instance * MAX_EVENTS + id, 1) + 1;
}

/** The word `enabled` reads (non-zero = emit does work). */
export function combinedFlag(id: number): number {
  return Number.isInteger(id) && id > 0 && id < MAX_EVENTS ? Atomics.load(s().combined, id) : 0;
}

function validIE(instance: number, id: number): boolean {
  return (
    Number.isInteger(instance) &&
    instance >= 0 &&
    instance < MAX_INSTANCES &&
    Number.isInteger(id) &&
    id > 0 &&
    id < MAX_EVENTS
  );
}

// ---------- instances ----------

/** Creates an instance (mkdir instances/<name>); throws InstanceError (EEXIST, EINVAL, ENOSPC). */
export function createInstance(name: string): number {
  return inst.createInstance(s(), name);
}

/** Destroys an instance (rmdir); throws InstanceError (ENOENT, EINVAL). */
export function destroyInstance(instance: number): void {
  inst.destroyInstance(s(), instance);
}

/** Instances other than the top level. */
export function listInstances(): Array<{ index: number; name: string }> {
  return inst.listInstances(s());
}

export function findInstance(name: string): number | undefined {
  return inst.findInstance(s(), name);
}

export function instanceName(instance: number): string {
  return inst.instanceName(s(), instance);
}

export function isLiveInstance(instance: number): boolean {
  return inst.isLiveInstance(s(), instance);
}

/** Changes whenever an instance is created or destroyed. */
export function instancesGeneration(): number {
  return inst.instancesGeneration(s());
}

export function setTracingOn(instance: number, on: boolean): void {
  inst.setTracingOn(s(), instance, on);
}

export function isTracingOn(instance: number): boolean {
  return inst.isTracingOn(s(), instance);
}

export function bufferSizeKb(instance: number): number {
  return inst.bufferSizeKb(s(), instance);
}

/** Resizes every CPU buffer of the instance (contents are dropped); throws InstanceError (EINVAL, ENOMEM). */
export function setBufferSizeKb(instance: number, kb: number): void {
  inst.setBufferSizeKb(s(), instance, kb);
}

/** Sum of the per-CPU sizes of the CPUs that have a buffer (buffer_total_size_kb). */
export function bufferTotalSizeKb(instance: number): number {
  return ringsOf(s(), instance).length * inst.bufferSizeKb(s(), instance);
}

export function clockName(instance: number): string {
  return inst.clockNameOf(s(), instance);
}

/** Switches the instance's clock; like the kernel, this clears its buffers. False for an unknown clock. */
export function setClock(instance: number, name: string): boolean {
  if (clockId(name) < 0 || !inst.isLiveInstance(s(), instance)) return false;
  if (inst.clockNameOf(s(), instance) === name) return true;
  inst.setClock(s(), instance, name);
  clearBuffer(instance);
  return true;
}

/** The instance clock's current value (ns, or ticks for counter/uptime: see clockInNs). */
export function clockNow(instance: number): bigint {
  return BigInt(readClock(s(), inst.clockOf(s(), instance)));
}

/** Whether the instance's clock counts nanoseconds (else raw ticks: counter, uptime). */
export function instanceClockInNs(instance: number): boolean {
  return clockInNs(inst.clockOf(s(), instance));
}

export function getOption(instance: number, name: string): boolean | undefined {
  return inst.getOption(s(), instance, name);
}

/** Sets a trace option; false for an unknown name. `overwrite` takes effect at the next record. */
export function setOption(instance: number, name: string, on: boolean): boolean {
  return inst.setOption(s(), instance, name, on);
}

// ---------- buffers ----------

/** Empties the buffers of an instance (all CPUs, or one): what O_TRUNC of `trace` does. */
export function clearBuffer(instance: number, cpu?: number): void {
  for (const [c, v] of ringsOf(s(), instance)) if (cpu === undefined || c === cpu) clearRing(v);
}

/** Number of CPUs (threads that emitted at least once, in any instance): `#P:` and per_cpu/cpuN. */
export function cpuCount(): number {
  return sharedCpuCount(s());
}

/** CPUs that have a buffer in the instance. */
export function cpusOf(instance: number): number[] {
  return ringsOf(s(), instance).map(([c]) => c);
}

/** The thread name of a CPU (the `<comm>` column). */
export function cpuName(cpu: number): string {
  return context().names.name(cpu);
}

/** per_cpu/cpuN/stats of an instance (all zero for a CPU without a buffer). */
export function cpuStats(instance: number, cpu: number): CpuStats {
  const st = s();
  const ok = inst.validInstanceIndex(instance) && Number.isInteger(cpu) && cpu >= 0 && cpu < MAX_CPUS;
  const base = ok ? Atomics.load(st.ringTable, instance * MAX_CPUS + cpu) : 0;
  return ringStats(st, instance, cpu, base ? openRing(st, base) : undefined);
}

/** The `trace` header's "entries-in-buffer/entries-written" over all CPUs (or one). */
export function bufferTotals(instance: number, cpu?: number): { entries: number; written: number } {
  let entries = 0;
  let written = 0;
  for (const [c, v] of ringsOf(s(), instance)) {
    if (cpu !== undefined && c !== cpu) continue;
    const e = ringEntries(v);
    entries += e;
    written += e + ringOverrun(v);
  }
  return { entries, written };
}

/** Whether a consuming read of the instance would return something now (cheap: counters only). */
export function hasData(instance: number, cpu?: number): boolean {
  for (const [c, v] of ringsOf(s(), instance)) {
    if (cpu !== undefined && c !== cpu) continue;
    if (ringEntries(v) > 0) return true;
  }
  return false;
}

/** Bytes of one trace_pipe_raw page (RawPageReader's pages, the kernel's sub-buffer). */
export { PAGE_SIZE as RAW_PAGE_SIZE } from './ring.js';

/**
 * Consuming reader of one CPU's buffer in the kernel's binary page format (trace_pipe_raw): each `next()` returns
 * one 4096-byte page (u64 timestamp, commit word, events; see events/header_page and header_event) holding the
 * oldest unconsumed records that fit, or undefined when there are none. Shares the consuming position with
 * `ConsumingReader`.
 */
export class RawPageReader {
  readonly instance: number;
  readonly cpu: number;
  private cursor: RingCursor | undefined;

  constructor(instance: number, cpu: number) {
    this.instance = instance;
    this.cpu = cpu;
  }

  /** `out`/`at`: where to write the page (see takeRawPage); a fresh page otherwise. */
  next(out?: Uint8Array, at = 0): Uint8Array | undefined {
    const st = s();
    if (!inst.validInstanceIndex(this.instance) || !Number.isInteger(this.cpu) || this.cpu < 0 || this.cpu >= MAX_CPUS)
      return undefined;
    const base = Atomics.load(st.ringTable, this.instance * MAX_CPUS + this.cpu);
    if (base === 0) return undefined;
    if (!this.cursor || this.cursor.v.base !== base || !this.cursor.valid()) {
      const v = openRing(st, base);
      if (!v) return undefined;
      this.cursor = new RingCursor(v, this.cpu, true);
    }
    return takeRawPage(this.cursor, out, at);
  }
}

// ---------- markers ----------

const utf8 = new TextEncoder();
/** Longest trace_marker text one record holds (the rest of a longer write is refused: a short count). */
export const MARKER_MAX = 4046 - 16;

/**
 * trace_marker: records `text` as ftrace:print in the instance (from the calling thread's CPU). Like the kernel,
 * a newline is appended when missing. Returns the number of input bytes accepted (short for long writes), or 0
 * when nothing was recorded (tracing off). `pid` sets common_pid (e.g. the writing process from FUSE) and
 * `comm` its name: readers in this thread then show that name for its records (the kernel's saved_cmdlines).
 */
export function writeMarker(instance: number, text: string | Uint8Array, pid = process.pid, comm?: string): number {
  const st = s();
  if (comm !== undefined) rememberComm(pid, comm);
  let bytes = typeof text === 'string' ? utf8.encode(text) : text;
  const accepted = Math.min(bytes.length, MARKER_MAX);
  bytes = bytes.subarray(0, accepted);
  if (bytes.length === 0 || bytes[bytes.length - 1] !== 0x0a) {
    const withNl = new Uint8Array(bytes.length + 1);
    withNl.set(bytes);
    withNl[bytes.length] = 0x0a;
    bytes = withNl;
  }
  const ev = context().registry.get(FTRACE_PRINT_ID);
  if (!ev) return 0;
  const ok = emitInto(st, instance, (w, ts) => encodeRaw(FTRACE_PRINT_ID, ev.layout, pid, w, ts, [0], bytes, true));
  return ok ? accepted : 0;
}

/**
 * trace_marker_raw: the first 4 bytes are an id (u32, host order), the rest is stored as is. Returns the bytes
 * accepted, or -1 when fewer than 4 bytes were given (EINVAL), 0 when nothing was recorded. `pid`, `comm`: as
 * writeMarker.
 */
export function writeMarkerRaw(instance: number, bytes: Uint8Array, pid = process.pid, comm?: string): number {
  if (bytes.length < 4) return -1;
  if (comm !== undefined) rememberComm(pid, comm);
  const accepted = Math.min(bytes.length, MARKER_MAX);
  const id = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  const ev = context().registry.get(FTRACE_RAW_DATA_ID);
  if (!ev) return 0;
  const rest = bytes.subarray(4, accepted);
  const ok = emitInto(s(), instance, (w, ts) =>
    encodeRaw(FTRACE_RAW_DATA_ID, ev.layout, pid, w, ts, [id], rest, false),
  );
  return ok ? accepted : 0;
}

/**
 * Records an `ftrace:kernel_stack` entry (the `stacktrace` trigger's record): `frames` innermost first, one JS frame
 * string each. Whole frames that would not fit a record are left out (the kernel's stack is cut the same way), so
 * `size` always counts the frames stored. Returns the number of frames recorded (0 when nothing was recorded).
 */
export function writeStack(instance: number, frames: readonly string[], pid = process.pid): number {
  const ev = context().registry.get(FTRACE_KERNEL_STACK_ID);
  if (!ev) return 0;
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const f of frames) {
    // A newline separates frames, so one inside a frame would split it in two.
    const b = utf8.encode(f.replaceAll('\n', ' '));
    const need = b.length + (parts.length > 0 ? 1 : 0);
    if (total + need > MARKER_MAX) break;
    parts.push(b);
    total += need;
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const b of parts) {
    if (at > 0) bytes[at++] = 0x0a;
    bytes.set(b, at);
    at += b.length;
  }
  const n = parts.length;
  const ok = emitInto(s(), instance, (w, ts) =>
    encodeRaw(FTRACE_KERNEL_STACK_ID, ev.layout, pid, w, ts, [n], bytes, true),
  );
  return ok ? n : 0;
}

// ---------- health ----------

/** Problems emit counted instead of throwing, process-wide. */
export function problemCounts(): { badValues: number; truncated: number; internalErrors: number } {
  const h = s().header;
  return {
    badValues: Atomics.load(h, H_BAD_VALUES),
    truncated: Atomics.load(h, H_TRUNCATED),
    internalErrors: Atomics.load(h, H_INTERNAL_ERRORS),
  };
}
