/**
 * Thread identity: each emitting thread is one of ntrace's "CPUs". Its index is allocated on the thread's first
 * recorded event; its name (the `<comm>` of trace lines: the process title in the main thread, the name given with
 * `setThreadName` or `worker-<threadId>` in a worker) lives in the shared thread table so every reader can print it.
 */
import {
  C_NAME,
  C_NAME_GEN,
  C_NAME_LEN,
  C_STATE,
  C_THREAD_ID,
  CPU_NAME_MAX,
  CPU_WORDS,
  H_NEXT_CPU,
  MAX_CPUS,
  type SharedState,
  shared,
  workerThreads,
} from './shared-state.js';
import { wakeRegistryWatchers } from './wake.js';

/** The kernel's comm holds 15 bytes (TASK_COMM_LEN 16 with the NUL). */
export const COMM_MAX = 15;

let myCpu = -1;
let myName: string | undefined;

function defaultName(): string {
  const { isMainThread, threadId } = workerThreads();
  return isMainThread ? process.title || 'node' : `worker-${threadId}`;
}

function encodeName(name: string): Uint8Array {
  const bytes = new TextEncoder().encode(name);
  if (bytes.length <= COMM_MAX) return bytes;
  // Cut on a character boundary.
  let n = COMM_MAX;
  while (n > 0 && (bytes[n] & 0xc0) === 0x80) n--;
  return bytes.slice(0, n);
}

function publishName(s: SharedState, cpu: number, name: string): void {
  const base = cpu * CPU_WORDS;
  const bytes = encodeName(name);
  const view = new Uint8Array(s.cpus.buffer, s.cpus.byteOffset + (base + C_NAME) * 4, CPU_NAME_MAX);
  view.fill(0);
  view.set(bytes);
  s.cpus[base + C_NAME_LEN] = bytes.length;
  Atomics.add(s.cpus, base + C_NAME_GEN, 1);
}

/** This thread's CPU index, allocated on first use; -1 when the table is full. */
export function currentCpu(s: SharedState): number {
  if (myCpu >= 0) return myCpu;
  const cpu = Atomics.add(s.header, H_NEXT_CPU, 1);
  if (cpu >= MAX_CPUS) {
    Atomics.sub(s.header, H_NEXT_CPU, 1);
    return -1;
  }
  myCpu = cpu;
  s.cpus[cpu * CPU_WORDS + C_THREAD_ID] = workerThreads().threadId;
  publishName(s, cpu, myName ?? defaultName());
  Atomics.store(s.cpus, cpu * CPU_WORDS + C_STATE, 1);
  // A new CPU is news for the filesystem thread (per_cpu/cpuN): ring it now, not at its next request.
  wakeRegistryWatchers(s);
  return cpu;
}

/** Names this thread in trace output (truncated to 15 bytes like the kernel's comm). */
export function setThreadName(name: string): void {
  if (typeof name !== 'string') return;
  myName = name;
  if (myCpu >= 0) publishName(shared(), myCpu, name);
}

/** Number of CPU indexes handed out so far (CPUs are 0..n-1). */
export function cpuCount(s: SharedState): number {
  return Math.min(MAX_CPUS, Atomics.load(s.header, H_NEXT_CPU));
}

/** Reads the names of CPUs, caching per name generation. */
export class CpuNames {
  private readonly s: SharedState;
  private readonly names: string[] = [];
  private readonly gens: number[] = [];
  private readonly decoder = new TextDecoder();

  constructor(s: SharedState) {
    this.s = s;
  }

  name(cpu: number): string {
    if (cpu < 0 || cpu >= MAX_CPUS) return '<...>';
    const base = cpu * CPU_WORDS;
    const gen = Atomics.load(this.s.cpus, base + C_NAME_GEN);
    if (this.gens[cpu] === gen && this.names[cpu] !== undefined) return this.names[cpu];
    if (gen === 0) return '<...>';
    const len = Math.min(CPU_NAME_MAX, Math.max(0, this.s.cpus[base + C_NAME_LEN]));
    const bytes = new Uint8Array(this.s.cpus.buffer, this.s.cpus.byteOffset + (base + C_NAME) * 4, len).slice();
    const name = this.decoder.decode(bytes);
    this.names[cpu] = name;
    this.gens[cpu] = gen;
    return name;
  }

  threadId(cpu: number): number {
    return cpu >= 0 && cpu < MAX_CPUS ? this.s.cpus[cpu * CPU_WORDS + C_THREAD_ID] : -1;
  }
}

/**
 * Names of other processes that wrote records through this thread (trace_marker writers: the FUSE request's pid),
 * like the kernel's saved_cmdlines. Thread-local: the filesystem thread both writes those records and reads them.
 */
const foreignComms = new Map<number, string>();
const FOREIGN_MAX = 1024;

export function rememberComm(pid: number, comm: string): void {
  if (!Number.isInteger(pid) || pid === process.pid || typeof comm !== 'string') return;
  foreignComms.delete(pid);
  foreignComms.set(pid, comm.slice(0, COMM_MAX));
  if (foreignComms.size > FOREIGN_MAX) foreignComms.delete(foreignComms.keys().next().value as number);
}

export function foreignComm(pid: number): string | undefined {
  return pid === process.pid ? undefined : foreignComms.get(pid);
}
