/**
 * Events the engine defines itself, with the kernel's ids: ftrace:kernel_stack (what the `stacktrace` trigger
 * records), ftrace:print (what trace_marker writes) and ftrace:raw_data (trace_marker_raw). The kernel's `buf` is a
 * flexible array; here it is a __data_loc string (raw_data's bytes are stored as they are, NUL included, under the
 * same __data_loc word). kernel_stack's `caller` holds return addresses in the kernel; ntrace's frames are JS frame
 * strings, so `caller` is a __data_loc string of `size` frames separated by newlines.
 */
import type { FieldSpec } from './layout.js';

export interface BuiltinEvent {
  readonly id: number;
  readonly system: string;
  readonly name: string;
  readonly fields: readonly FieldSpec[];
  readonly print: string;
}

export const FTRACE_KERNEL_STACK_ID = 4;
export const FTRACE_PRINT_ID = 5;
export const FTRACE_RAW_DATA_ID = 19;

export const BUILTIN_EVENTS: readonly BuiltinEvent[] = [
  {
    id: FTRACE_KERNEL_STACK_ID,
    system: 'ftrace',
    name: 'kernel_stack',
    fields: [
      { name: 'size', type: 's32' },
      { name: 'caller', type: 'string' },
    ],
    // Only format-file readers see this: `trace` prints the kernel's `<stack trace>` and ` => frame` lines.
    print: 'size=%d\n%s',
  },
  {
    id: FTRACE_PRINT_ID,
    system: 'ftrace',
    name: 'print',
    fields: [
      { name: 'ip', type: 'u64' },
      { name: 'buf', type: 'string' },
    ],
    print: '%ps: %s',
  },
  {
    id: FTRACE_RAW_DATA_ID,
    system: 'ftrace',
    name: 'raw_data',
    fields: [
      { name: 'id', type: 'u32' },
      { name: 'buf', type: 'string' },
    ],
    print: 'id:%04x %08x',
  },
];
