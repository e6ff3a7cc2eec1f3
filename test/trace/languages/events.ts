/** Synthetic events for the language tests, shaped like kernel events whose behaviour was observed on a real kernel. */
import { computeLayout, type FieldSpec } from '../../../src/trace/layout.js';
import type { EventDescriptor } from '../../../src/trace/record.js';

export function makeEvent(id: number, system: string, name: string, fields: FieldSpec[]): EventDescriptor {
  return Object.freeze({ id, system, name, fields, layout: computeLayout(fields) });
}

/** Same fields, sizes and signedness as the kernel's sched:sched_switch (pid_t/int = s32, long = s64). */
export const schedSwitch = makeEvent(372, 'sched', 'sched_switch', [
  { name: 'prev_comm', type: 'char[16]' },
  { name: 'prev_pid', type: 's32' },
  { name: 'prev_prio', type: 's32' },
  { name: 'prev_state', type: 's64' },
  { name: 'next_comm', type: 'char[16]' },
  { name: 'next_pid', type: 's32' },
  { name: 'next_prio', type: 's32' },
]);

/** One field of every type. */
export const allTypes = makeEvent(900, 'test', 'all_types', [
  { name: 'a_u8', type: 'u8' },
  { name: 'a_u16', type: 'u16' },
  { name: 'a_u32', type: 'u32' },
  { name: 'a_u64', type: 'u64' },
  { name: 'a_s8', type: 's8' },
  { name: 'a_s16', type: 's16' },
  { name: 'a_s32', type: 's32' },
  { name: 'a_s64', type: 's64' },
  { name: 'flag', type: 'bool' },
  { name: 'url', type: 'string' },
  { name: 'name', type: 'char[8]' },
  { name: 'bytes4', type: 'u8[4]' },
  { name: 'words', type: 'u32[3]' },
]);

export const httpRequest = makeEvent(901, 'http', 'request', [
  { name: 'method', type: 'string' },
  { name: 'url', type: 'string' },
  { name: 'status', type: 'u16' },
  { name: 'bytes', type: 'u32' },
]);

export const httpResponse = makeEvent(902, 'http', 'response', [
  { name: 'status', type: 'u16' },
  { name: 'duration', type: 'u64' },
]);

/** Shaped like sched:sched_process_fork, the event the kernel's hist selftests use. */
export const forkEvent = makeEvent(310, 'sched', 'sched_process_fork', [
  { name: 'parent_comm', type: 'char[16]' },
  { name: 'parent_pid', type: 's32' },
  { name: 'child_comm', type: 'char[16]' },
  { name: 'child_pid', type: 's32' },
]);

export const exitEvent = makeEvent(311, 'sched', 'sched_process_exit', [
  { name: 'comm', type: 'char[16]' },
  { name: 'pid', type: 's32' },
  { name: 'prio', type: 's32' },
]);

/** Shaped like kmem:kmalloc (the hist syntax-error selftest's event). */
export const kmallocEvent = makeEvent(320, 'kmem', 'kmalloc', [
  { name: 'call_site', type: 'u64' },
  { name: 'ptr', type: 'u64' },
  { name: 'bytes_req', type: 'u64' },
  { name: 'bytes_alloc', type: 'u64' },
  { name: 'gfp_flags', type: 'u32' },
  { name: 'node', type: 's32' },
]);

/** Shaped like signal:signal_generate (the tracing-error-log selftest's event). */
export const signalGenerate = makeEvent(330, 'signal', 'signal_generate', [
  { name: 'sig', type: 's32' },
  { name: 'errno', type: 's32' },
  { name: 'code', type: 's32' },
  { name: 'comm', type: 'char[16]' },
  { name: 'pid', type: 's32' },
  { name: 'group', type: 's32' },
  { name: 'result', type: 's32' },
]);

/** Shaped like bridge:br_fdb_add (u8, __data_loc string, u16 fields), minus its `unsigned char addr[6]`. */
export const brFdbAdd = makeEvent(1200, 'bridge', 'br_fdb_add', [
  { name: 'ndm_flags', type: 'u8' },
  { name: 'dev', type: 'string' },
  { name: 'vid', type: 'u16' },
  { name: 'nlh_flags', type: 'u16' },
]);
