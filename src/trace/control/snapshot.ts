/**
 * The `snapshot` buffer of an instance, as the kernel's: a second set of per-CPU rings, swapped with the live ones.
 * A swap exchanges ring table entries (O(1) per CPU, so the `snapshot` trigger can do it on the emitting thread):
 * the live rings become the snapshot, the spare snapshot rings are re-initialized empty and become live, and the
 * engine's config generation sends every emitter to its new ring at its next record. Snapshot rings live in the
 * arena; their table is in the control root, so any thread reads them (`cat snapshot` while the app spins).
 *
 * Differences from the kernel: the buffer that becomes live is emptied (the kernel hands the previous snapshot's
 * pages back to the writer unchanged); a CPU that appears after the allocation gets its snapshot ring at the next
 * swap.
 */
import { arenaAlloc, arenaFree } from '../arena.js';
import { clearRing, ringEntries, ringOverrun } from '../buffers.js';
import { context } from '../context.js';
import { bufferSizeKb, cpuCount, isLiveInstance, setTracingOn, writeMarker } from '../engine.js';
import { withLock } from '../lock.js';
import type { TraceRecord } from '../record.js';
import { initRing, openRing, pagesForKb, type RingViews, ringGeometry } from '../ring.js';
import { RingCursor } from '../ring-cursor.js';
import { H_CONFIG_GEN, H_INST_LOCK, I_GEN, INST_WORDS, MAX_CPUS, MAX_INSTANCES } from '../shared-state.js';
import { type TextSource, traceFileText } from '../text/file-text.js';
import { snapshotHeader } from '../text/snapshot-text.js';
import { DEFAULT_TRACE_TEXT_OPTIONS, type TraceTextOptions } from '../text/trace-line.js';
import { foreignComm } from '../threads.js';
import { findRoot, root, SNAP_HEADER_WORDS, snapshotTable } from './shared-control.js';

const S_ALLOCATED = 0;
/** The instance generation the snapshot belongs to (a destroyed and re-created instance starts without one). */
const S_INST_GEN = 1;

function valid(instance: number): boolean {
  return Number.isInteger(instance) && instance >= 0 && instance < MAX_INSTANCES && isLiveInstance(instance);
}

function instGen(instance: number): number {
  return Atomics.load(context().s.instances, instance * INST_WORDS + I_GEN);
}

/** The table when a snapshot of the current instance is allocated; a stale one (instance re-created) is freed. */
function liveTable(instance: number, create: boolean): Int32Array | undefined {
  const r = create ? root() : findRoot();
  if (!r) return undefined;
  const t = snapshotTable(r, instance, create, MAX_CPUS);
  if (!t) return undefined;
  if (Atomics.load(t, S_ALLOCATED) !== 0 && Atomics.load(t, S_INST_GEN) !== instGen(instance)) freeRings(t);
  return t;
}

function freeRings(t: Int32Array): void {
  const s = context().s;
  Atomics.store(t, S_ALLOCATED, 0);
  for (let cpu = 0; cpu < MAX_CPUS; cpu++) {
    const base = t[SNAP_HEADER_WORDS + cpu];
    if (base === 0) continue;
    Atomics.store(t, SNAP_HEADER_WORDS + cpu, 0);
    const v = openRing(s, base);
    if (v) arenaFree(s, base, v.geo.totalBytes);
  }
}

function newRing(instance: number, cpu: number, pages: number): number {
  const s = context().s;
  const base = arenaAlloc(s, ringGeometry(pages).totalBytes);
  if (base !== 0) initRing(s, base, pages, instance, cpu);
  return base;
}

export function isSnapshotAllocated(instance: number): boolean {
  if (!valid(instance)) return false;
  const t = liveTable(instance, false);
  return t !== undefined && Atomics.load(t, S_ALLOCATED) !== 0;
}

/** Allocates the snapshot buffer (empty rings for the CPUs the instance has). False when memory ran out. */
export function allocateSnapshot(instance: number): boolean {
  if (!valid(instance)) return false;
  const s = context().s;
  return withLock(s.header, H_INST_LOCK, () => {
    const t = liveTable(instance, true);
    if (!t) return false;
    if (Atomics.load(t, S_ALLOCATED) !== 0) return true;
    const pages = pagesForKb(bufferSizeKb(instance));
    const n = cpuCount();
    for (let cpu = 0; cpu < n; cpu++) {
      if (Atomics.load(s.ringTable, instance * MAX_CPUS + cpu) === 0) continue;
      const base = newRing(instance, cpu, pages);
      if (base === 0) {
        freeRings(t);
        return false;
      }
      t[SNAP_HEADER_WORDS + cpu] = base;
    }
    t[S_INST_GEN] = instGen(instance);
    Atomics.store(t, S_ALLOCATED, 1);
    return true;
  });
}

/** `echo 0 > snapshot`: frees the snapshot buffer. */
export function freeSnapshot(instance: number): void {
  if (!valid(instance)) return;
  withLock(context().s.header, H_INST_LOCK, () => {
    const t = liveTable(instance, false);
    if (t) freeRings(t);
  });
}

/** `echo 2 > snapshot`: empties the snapshot buffer (allocated or not, nothing else changes). */
export function clearSnapshot(instance: number): void {
  if (!valid(instance)) return;
  const t = liveTable(instance, false);
  if (!t || Atomics.load(t, S_ALLOCATED) === 0) return;
  for (const [, v] of snapshotRings(t)) clearRing(v);
}

/**
 * Swaps the live buffer with the snapshot (`echo 1 > snapshot` after allocating, and the `snapshot` trigger).
 * Returns false when no snapshot buffer is allocated.
 */
export function swapSnapshot(instance: number): boolean {
  if (!valid(instance)) return false;
  const s = context().s;
  return withLock(s.header, H_INST_LOCK, () => {
    const t = liveTable(instance, false);
    if (!t || Atomics.load(t, S_ALLOCATED) === 0) return false;
    const pages = pagesForKb(bufferSizeKb(instance));
    const n = cpuCount();
    for (let cpu = 0; cpu < n; cpu++) {
      const k = instance * MAX_CPUS + cpu;
      const live = Atomics.load(s.ringTable, k);
      if (live === 0) continue;
      let spare = t[SNAP_HEADER_WORDS + cpu];
      const v = spare ? openRing(s, spare) : undefined;
      if (spare !== 0 && (!v || v.geo.nPages !== pages)) {
        if (v) arenaFree(s, spare, v.geo.totalBytes);
        spare = 0;
      }
      if (spare === 0) spare = arenaAlloc(s, ringGeometry(pages).totalBytes);
      if (spare === 0) {
        t[SNAP_HEADER_WORDS + cpu] = 0;
        continue;
      }
      // Re-initialized (new ring id): an emitter still holding it from an earlier life must re-attach.
      initRing(s, spare, pages, instance, cpu);
      Atomics.store(s.ringTable, k, spare);
      Atomics.store(t, SNAP_HEADER_WORDS + cpu, live);
    }
    Atomics.add(s.header, H_CONFIG_GEN, 1);
    return true;
  });
}

/**
 * The `snapshot` trigger: swap, or — as the kernel does when no snapshot buffer is allocated — say so in the trace
 * and stop tracing.
 */
export function snapshotFromTrigger(instance: number): void {
  if (swapSnapshot(instance)) return;
  writeMarker(instance, '*** SNAPSHOT NOT ALLOCATED ***\n');
  writeMarker(instance, '*** stopping trace here!   ***\n');
  setTracingOn(instance, false);
}

/**
 * `echo N > snapshot`: 0 frees, 1 allocates (if needed) and takes a snapshot, anything else clears. Returns 0 or
 * an errno (ENOMEM when the buffer cannot be allocated, ENODEV for a gone instance).
 */
export function writeSnapshot(instance: number, value: bigint): number {
  if (!valid(instance)) return 19; // ENODEV
  if (value === 0n) freeSnapshot(instance);
  else if (value === 1n) {
    if (!allocateSnapshot(instance)) return 12; // ENOMEM
    swapSnapshot(instance);
  } else clearSnapshot(instance);
  return 0;
}

function snapshotRings(t: Int32Array): Array<[number, RingViews]> {
  const s = context().s;
  const out: Array<[number, RingViews]> = [];
  const n = cpuCount();
  for (let cpu = 0; cpu < n; cpu++) {
    const base = Atomics.load(t, SNAP_HEADER_WORDS + cpu);
    const v = base ? openRing(s, base) : undefined;
    if (v) out.push([cpu, v]);
  }
  return out;
}

/** Records of the snapshot buffer merged by timestamp (non-consuming). */
function* snapshotRecords(rings: Array<[number, RingViews]>): Generator<TraceRecord> {
  const ctx = context();
  const cursors = rings.map(([cpu, v]) => new RingCursor(v, cpu, false));
  for (;;) {
    let best: RingCursor | undefined;
    let bestTs = 0;
    for (const c of cursors) {
      const r = c.peek();
      if (r && (!best || r.ts < bestTs)) {
        best = c;
        bestTs = r.ts;
      }
    }
    if (!best) return;
    const r = best.peek();
    if (!r || !best.take()) continue;
    const data = r.data;
    const id = data.length >= 2 ? data[0] | (data[1] << 8) : 0;
    const pid = data.length >= 8 ? data[4] | (data[5] << 8) | (data[6] << 16) | (data[7] << 24) : 0;
    yield {
      cpu: r.cpu,
      ts: BigInt(r.ts),
      id,
      event: ctx.registry.get(id),
      data,
      comm: foreignComm(pid) ?? ctx.names.name(r.cpu),
      pid,
    };
  }
}

/**
 * The `snapshot` file, as byte chunks: like `trace` over the snapshot buffer, or the kernel's help text when it is
 * empty.
 */
export function snapshotText(instance: number, options: TraceTextOptions = DEFAULT_TRACE_TEXT_OPTIONS): TextSource {
  const t = valid(instance) ? liveTable(instance, false) : undefined;
  const allocated = t !== undefined && Atomics.load(t, S_ALLOCATED) !== 0;
  const rings = allocated && t ? snapshotRings(t) : [];
  let entries = 0;
  let written = 0;
  for (const [, v] of rings) {
    const e = ringEntries(v);
    entries += e;
    written += e + ringOverrun(v);
  }
  const info = { entries, written, cpus: cpuCount() };
  return traceFileText(info, snapshotRecords(rings), options, snapshotHeader({ ...info, allocated }, options));
}
