/**
 * Trace instances ("trace arrays"): the top level (index 0) and those created at run time under `instances/`.
 * Each has its own enable state, ring buffers, tracing_on, buffer size, clock and options, all in shared memory,
 * so any thread (the filesystem thread on mkdir/rmdir) manages them.
 */
import { arenaAlloc, arenaFree } from './arena.js';
import { CLOCK_NAMES, clockId } from './clocks.js';
import { confirmLive, isLiveStatus, settleCombined } from './event-status.js';
import { withLock } from './lock.js';
import { initRing, openRing, pagesForKb, ringGeometry } from './ring.js';
import {
  COMBINED_RECORDING_UNIT,
  H_CONFIG_GEN,
  H_INST_LOCK,
  H_INSTANCE_GEN,
  I_BUFFER_KB,
  I_CLOCK,
  I_GEN,
  I_NAME,
  I_NAME_LEN,
  I_OPTIONS,
  I_STATE,
  I_TRACING_ON,
  I_WAITERS,
  IE_ENABLED,
  IE_FILTER,
  IE_TRIGGER,
  INST_BUSY,
  INST_FREE,
  INST_LIVE,
  INST_WORDS,
  INSTANCE_NAME_MAX,
  MAX_CPUS,
  MAX_EVENTS,
  MAX_INSTANCES,
  type SharedState,
  SOFT_TRIGGER,
} from './shared-state.js';
import { wakeRegistryWatchers } from './wake.js';

export const TOP_INSTANCE = 0;
/** Per-CPU buffer size of a new instance, in KiB (the kernel's default once expanded). */
export const DEFAULT_BUFFER_KB = 1408;

/** trace_options, in the kernel's order (tracer-specific test options left out). */
export const OPTION_NAMES = [
  'print-parent',
  'sym-offset',
  'sym-addr',
  'verbose',
  'raw',
  'hex',
  'bin',
  'block',
  'fields',
  'trace_printk',
  'annotate',
  'userstacktrace',
  'sym-userobj',
  'printk-msg-only',
  'context-info',
  'latency-format',
  'record-cmd',
  'record-tgid',
  'overwrite',
  'disable_on_free',
  'irq-info',
  'markers',
  'event-fork',
  'trace_printk_dest',
  'copy_trace_marker',
  'pause-on-trace',
  'hash-ptr',
  'function-trace',
  'function-fork',
  'stacktrace',
] as const;
export type OptionName = (typeof OPTION_NAMES)[number];
export const OPT_OVERWRITE = 1 << OPTION_NAMES.indexOf('overwrite');
const DEFAULT_ON: readonly OptionName[] = [
  'print-parent',
  'trace_printk',
  'annotate',
  'context-info',
  'record-cmd',
  'overwrite',
  'irq-info',
  'markers',
  'hash-ptr',
  'function-trace',
];
export const DEFAULT_OPTIONS = DEFAULT_ON.reduce((m, n) => m | (1 << OPTION_NAMES.indexOf(n)), 0);

/** Why an instance operation failed, as the errno the filesystem should return. */
export class InstanceError extends Error {
  readonly code: 'EEXIST' | 'ENOENT' | 'ENOSPC' | 'EINVAL' | 'EBUSY' | 'ENOMEM';
  constructor(code: InstanceError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Whether `i` can index the instance tables (live or not). */
export function validInstanceIndex(i: number): boolean {
  return Number.isInteger(i) && i >= 0 && i < MAX_INSTANCES;
}

function word(s: SharedState, i: number, w: number): number {
  return validInstanceIndex(i) ? s.instances[i * INST_WORDS + w] : 0;
}

export function initInstanceWords(s: SharedState, i: number): void {
  const b = i * INST_WORDS;
  s.instances[b + I_TRACING_ON] = 1;
  s.instances[b + I_BUFFER_KB] = DEFAULT_BUFFER_KB;
  s.instances[b + I_CLOCK] = 0;
  s.instances[b + I_OPTIONS] = DEFAULT_OPTIONS;
  s.instances[b + I_WAITERS] = 0;
}

/** Makes sure the top-level instance exists (done by whichever thread gets there first). */
export function ensureTopInstance(s: SharedState): void {
  if (Atomics.load(s.instances, I_STATE) === INST_LIVE) return;
  withLock(s.header, H_INST_LOCK, () => {
    if (s.instances[I_STATE] === INST_LIVE) return;
    initInstanceWords(s, TOP_INSTANCE);
    Atomics.add(s.instances, I_GEN, 1);
    Atomics.store(s.instances, I_STATE, INST_LIVE);
  });
}

export function instanceName(s: SharedState, i: number): string {
  if (i === TOP_INSTANCE || !validInstanceIndex(i)) return '';
  const len = Math.min(INSTANCE_NAME_MAX, Math.max(0, word(s, i, I_NAME_LEN)));
  const off = s.instances.byteOffset + (i * INST_WORDS + I_NAME) * 4;
  return decoder.decode(new Uint8Array(s.instances.buffer, off, len).slice());
}

export function isLiveInstance(s: SharedState, i: number): boolean {
  return Number.isInteger(i) && i >= 0 && i < MAX_INSTANCES && Atomics.load(s.instances, i * INST_WORDS) === INST_LIVE;
}

/** Live instances other than the top level: index and name. */
export function listInstances(s: SharedState): Array<{ index: number; name: string }> {
  const out: Array<{ index: number; name: string }> = [];
  for (let i = 1; i < MAX_INSTANCES; i++) if (isLiveInstance(s, i)) out.push({ index: i, name: instanceName(s, i) });
  return out;
}

export function findInstance(s: SharedState, name: string): number | undefined {
  if (name === '') return TOP_INSTANCE;
  for (const it of listInstances(s)) if (it.name === name) return it.index;
  return undefined;
}

/** Generation of the instance set (moves on create/destroy). */
export function instancesGeneration(s: SharedState): number {
  return Atomics.load(s.header, H_INSTANCE_GEN);
}

/** Moves the instance generation and wakes a registry watcher (the filesystem thread lists instances too). */
function bumpInstances(s: SharedState): void {
  Atomics.add(s.header, H_INSTANCE_GEN, 1);
  wakeRegistryWatchers(s);
}

export function createInstance(s: SharedState, name: string): number {
  const bytes = encoder.encode(name);
  if (name === '' || name.includes('/') || bytes.length > INSTANCE_NAME_MAX || name === '.' || name === '..')
    throw new InstanceError('EINVAL', `bad instance name ${JSON.stringify(name)}`);
  return withLock(s.header, H_INST_LOCK, () => {
    if (findInstance(s, name) !== undefined) throw new InstanceError('EEXIST', `instance ${name} exists`);
    for (let i = 1; i < MAX_INSTANCES; i++) {
      const b = i * INST_WORDS;
      if (s.instances[b + I_STATE] !== INST_FREE) continue;
      s.instances[b + I_STATE] = INST_BUSY;
      initInstanceWords(s, i);
      new Uint8Array(s.instances.buffer, s.instances.byteOffset + (b + I_NAME) * 4, INSTANCE_NAME_MAX)
        .fill(0)
        .set(bytes);
      s.instances[b + I_NAME_LEN] = bytes.length;
      for (let id = 0; id < MAX_EVENTS; id++) s.instEvent[i * MAX_EVENTS + id] = 0;
      Atomics.add(s.instances, b + I_GEN, 1);
      Atomics.store(s.instances, b + I_STATE, INST_LIVE);
      bumpInstances(s);
      Atomics.add(s.header, H_CONFIG_GEN, 1);
      return i;
    }
    throw new InstanceError('ENOSPC', `no more than ${MAX_INSTANCES - 1} instances`);
  });
}

/** Destroys an instance: its events stop recording and its buffers are freed (after a grace period). */
export function destroyInstance(s: SharedState, i: number): void {
  if (i === TOP_INSTANCE) throw new InstanceError('EINVAL', 'the top-level instance cannot be removed');
  withLock(s.header, H_INST_LOCK, () => {
    const b = i * INST_WORDS;
    if (!isLiveInstance(s, i)) throw new InstanceError('ENOENT', `no instance ${i}`);
    Atomics.store(s.instances, b + I_STATE, INST_BUSY);
    for (let id = 0; id < MAX_EVENTS; id++) {
      setEnabledLocked(s, i, id, false);
      const old = Atomics.exchange(s.instEvent, i * MAX_EVENTS + id, 0);
      if ((old & IE_TRIGGER) !== 0) recomputeSoft(s, id);
      // A later instance in this slot must not inherit cached filters or triggers.
      if ((old & (IE_TRIGGER | IE_FILTER)) !== 0) Atomics.add(s.instFilterGen, i * MAX_EVENTS + id, 1);
    }
    Atomics.add(s.header, H_CONFIG_GEN, 1);
    freeRings(s, i);
    Atomics.add(s.instances, b + I_GEN, 1);
    Atomics.store(s.instances, b + I_STATE, INST_FREE);
    bumpInstances(s);
  });
}

function freeRings(s: SharedState, i: number): void {
  for (let cpu = 0; cpu < MAX_CPUS; cpu++) {
    const k = i * MAX_CPUS + cpu;
    const base = s.ringTable[k];
    if (base === 0) continue;
    Atomics.store(s.ringTable, k, 0);
    const r = openRing(s, base);
    if (r) arenaFree(s, base, r.geo.totalBytes);
  }
}

function setEnabledLocked(s: SharedState, i: number, id: number, on: boolean): boolean {
  const k = i * MAX_EVENTS + id;
  if (on) {
    if (!isLiveStatus(Atomics.load(s.eventStatus, id))) return false;
    // Bit first, status after: a concurrent remove() either sees the bit or is cancelled (event-status.ts).
    const old = Atomics.or(s.instEvent, k, IE_ENABLED);
    if ((old & IE_ENABLED) === 0) Atomics.add(s.combined, id, COMBINED_RECORDING_UNIT);
    if (confirmLive(s, id)) return true;
    Atomics.and(s.instEvent, k, ~IE_ENABLED);
    settleCombined(s, id);
    return false;
  }
  const old = Atomics.and(s.instEvent, k, ~IE_ENABLED);
  if (old & IE_ENABLED) {
    Atomics.sub(s.combined, id, COMBINED_RECORDING_UNIT);
    settleCombined(s, id);
  }
  return true;
}

/**
 * Keeps the event's SOFT_TRIGGER bit (part of what `enabled` reads) equal to "some instance has a trigger on it",
 * so a triggered event emits even where it does not record.
 */
export function recomputeSoft(s: SharedState, id: number): void {
  let any = false;
  for (let i = 0; i < MAX_INSTANCES && !any; i++)
    any = (Atomics.load(s.instEvent, i * MAX_EVENTS + id) & IE_TRIGGER) !== 0 && isLiveInstance(s, i);
  if (any && isLiveStatus(Atomics.load(s.eventStatus, id))) {
    Atomics.or(s.combined, id, SOFT_TRIGGER);
    confirmLive(s, id);
  } else Atomics.and(s.combined, id, ~SOFT_TRIGGER);
  settleCombined(s, id);
}

/** Turns recording of event `id` in instance `i` on or off; false when the event or instance is not live. */
export function setEventEnabled(s: SharedState, i: number, id: number, on: boolean): boolean {
  if (!isLiveInstance(s, i) || !Number.isInteger(id) || id <= 0 || id >= MAX_EVENTS) return false;
  return setEnabledLocked(s, i, id, on);
}

export function isEventEnabled(s: SharedState, i: number, id: number): boolean {
  if (!Number.isInteger(i) || i < 0 || i >= MAX_INSTANCES || !Number.isInteger(id) || id <= 0 || id >= MAX_EVENTS)
    return false;
  return (Atomics.load(s.instEvent, i * MAX_EVENTS + id) & IE_ENABLED) !== 0;
}

export function setTracingOn(s: SharedState, i: number, on: boolean): void {
  if (isLiveInstance(s, i)) Atomics.store(s.instances, i * INST_WORDS + I_TRACING_ON, on ? 1 : 0);
}

export function isTracingOn(s: SharedState, i: number): boolean {
  return isLiveInstance(s, i) && word(s, i, I_TRACING_ON) !== 0;
}

export function bufferSizeKb(s: SharedState, i: number): number {
  return word(s, i, I_BUFFER_KB);
}

/**
 * Sets the per-CPU buffer size. Existing rings are replaced by empty ones of the new size (their contents are
 * dropped, unlike the kernel, which keeps them); threads pick up their new ring at their next event.
 */
export function setBufferSizeKb(s: SharedState, i: number, kb: number): void {
  if (!isLiveInstance(s, i)) throw new InstanceError('ENOENT', `no instance ${i}`);
  if (!Number.isInteger(kb) || kb <= 0) throw new InstanceError('EINVAL', 'buffer size must be a positive integer');
  const pages = pagesForKb(kb);
  withLock(s.header, H_INST_LOCK, () => {
    s.instances[i * INST_WORDS + I_BUFFER_KB] = kb;
    for (let cpu = 0; cpu < MAX_CPUS; cpu++) {
      const k = i * MAX_CPUS + cpu;
      const old = s.ringTable[k];
      if (old === 0) continue;
      const r = openRing(s, old);
      if (r && r.geo.nPages === pages) continue;
      const base = arenaAlloc(s, ringGeometry(pages).totalBytes);
      if (base === 0) throw new InstanceError('ENOMEM', 'out of trace buffer memory');
      initRing(s, base, pages, i, cpu);
      Atomics.store(s.ringTable, k, base);
      if (r) arenaFree(s, old, r.geo.totalBytes);
    }
    Atomics.add(s.header, H_CONFIG_GEN, 1);
  });
}

/**
 * The ring of (instance, cpu), allocated on first use with the instance's current size. Returns 0 when the
 * instance is gone or memory is exhausted.
 */
export function ringFor(s: SharedState, i: number, cpu: number): number {
  const k = i * MAX_CPUS + cpu;
  const have = Atomics.load(s.ringTable, k);
  if (have !== 0) return have;
  return withLock(s.header, H_INST_LOCK, () => {
    if (s.ringTable[k] !== 0) return s.ringTable[k];
    if (!isLiveInstance(s, i)) return 0;
    const pages = pagesForKb(word(s, i, I_BUFFER_KB));
    const base = arenaAlloc(s, ringGeometry(pages).totalBytes);
    if (base === 0) return 0;
    initRing(s, base, pages, i, cpu);
    Atomics.store(s.ringTable, k, base);
    return base;
  });
}

export function clockOf(s: SharedState, i: number): number {
  return word(s, i, I_CLOCK);
}

export function clockNameOf(s: SharedState, i: number): string {
  return CLOCK_NAMES[clockOf(s, i)] ?? 'local';
}

/** Sets the instance's trace clock by name; false for an unknown clock. */
export function setClock(s: SharedState, i: number, name: string): boolean {
  const c = clockId(name);
  if (c < 0 || !isLiveInstance(s, i)) return false;
  Atomics.store(s.instances, i * INST_WORDS + I_CLOCK, c);
  return true;
}

export function options(s: SharedState, i: number): number {
  return word(s, i, I_OPTIONS);
}

export function getOption(s: SharedState, i: number, name: string): boolean | undefined {
  const bit = OPTION_NAMES.indexOf(name as OptionName);
  return bit < 0 ? undefined : (word(s, i, I_OPTIONS) & (1 << bit)) !== 0;
}

/** Sets an option; false for an unknown option name. */
export function setOption(s: SharedState, i: number, name: string, on: boolean): boolean {
  const bit = OPTION_NAMES.indexOf(name as OptionName);
  if (bit < 0 || !isLiveInstance(s, i)) return false;
  if (on) Atomics.or(s.instances, i * INST_WORDS + I_OPTIONS, 1 << bit);
  else Atomics.and(s.instances, i * INST_WORDS + I_OPTIONS, ~(1 << bit));
  return true;
}
