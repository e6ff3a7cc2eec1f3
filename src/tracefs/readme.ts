/** The README file: the kernel's mini-HOWTO style, limited to what this tracefs offers. */
import { CLOCK_NAMES } from '../trace/index.js';

const CLOCK_HELP: Record<string, string> = {
  local: 'Per thread clock of the process (monotonic, ns)',
  global: 'Same clock for every thread (monotonic, ns)',
  counter: 'Not a clock, but just an increment',
  uptime: 'Jiffy-like counter from time of process start',
  mono: 'CLOCK_MONOTONIC',
  mono_raw: 'CLOCK_MONOTONIC_RAW (as mono in Node.js)',
  boot: 'CLOCK_BOOTTIME (as mono in Node.js)',
};

export function readmeText(): string {
  const clocks = CLOCK_NAMES.map((c) => `${c.padStart(12)}:   ${CLOCK_HELP[c] ?? ''}\n`).join('');
  return `tracing mini-HOWTO (ntrace: tracefs for a Node.js process):

By default tracefs removes all OTH file permission bits.
When mounting tracefs an optional uid, group id and root mode can be specified
which sets the owner, the group and the root directory's permissions:

\t e.g. ntrace serve --events SPEC.json --mount DIR [--uid <uid>] [--gid <gid>] [--mode <mode>]
\t      mount(DIR, { [uid=<uid>] [gid=<gid>] [mode=<mode>] })   (the library's options)
\t      ntrace remount DIR [--gid <gid>] [--uid <uid>]   (like mount -o remount,gid=<gid>)

# echo 0 > tracing_on : quick way to disable tracing
# echo 1 > tracing_on : quick way to re-enable tracing

 Important files:
  trace\t\t\t- The static contents of the buffer
\t\t\t  To clear the buffer write into this file: echo > trace
  trace_pipe\t\t- A consuming read to see the contents of the buffer
  current_tracer\t- only nop: events are the tracing here
  available_tracers\t- list of configured tracers for current_tracer
  error_log\t- error log for failed commands (that support it)
  buffer_size_kb\t- view and modify size of per cpu buffer
  buffer_total_size_kb  - view total size of all cpu buffers
  free_buffer\t\t- closing it shrinks the ring buffers to their minimum (options/disable_on_free: tracing stops too)

  trace_clock\t\t- change the clock used to order events
${clocks}
  timestamp_mode\t- view the mode used to timestamp events
       delta:   Delta difference against a buffer-wide timestamp
    absolute:   Absolute (standalone) timestamp

  snapshot\t\t- Like trace but shows the content of the static
\t\t\t  snapshot buffer. Read the contents for more
\t\t\t  information
  trace_marker\t\t- Writes into this file writes into the trace buffer (ftrace:print)

  trace_marker_raw\t\t- Writes into this file writes binary data into the trace buffer
  instances\t\t- Make sub-buffers with: mkdir instances/foo
\t\t\t  Remove sub-buffer with rmdir
  trace_options\t\t- Set format or modify how tracing happens
\t\t\t  Disable an option by prefixing 'no' to the
\t\t\t  option name
  options/\t\t- one file per option: write 0/1
  per_cpu/cpuN/\t\t- trace, trace_pipe, stats, buffer_size_kb of one
\t\t\t  "CPU" (a thread of the process that emitted events)
  saved_cmdlines\t- pid and thread names seen in the buffers

  available_events\t- list of events that can be enabled
  set_event\t\t- Enables events by name written into it
  events/\t\t- Directory containing all trace event subsystems:
      enable\t\t- Write 0/1 to enable/disable tracing of all events
  events/<system>/\t- Directory containing all trace events for <system>:
      enable\t\t- Write 0/1 to enable/disable tracing of all <system>
\t\t\t  events
      filter\t\t- If set, only events passing filter are traced
  events/<system>/<event>/\t- Directory containing control files for
\t\t\t  <event>:
      enable\t\t- Write 0/1 to enable/disable tracing of <event>
      filter\t\t- If set, only events passing filter are traced
      trigger\t\t- If set, a command to perform when event is hit
\t    Format: <trigger>[:count][if <filter>]
\t   trigger: traceon, traceoff
\t            enable_event:<system>:<event>
\t            disable_event:<system>:<event>
\t\t    stacktrace
\t\t    snapshot
\t\t    hist (see events/<system>/<event>/hist)
\t   To remove a trigger without a count:
\t     echo '!<trigger> > <system>/<event>/trigger
\t   To remove a trigger with a count:
\t     echo '!<trigger>:0 > <system>/<event>/trigger
      format\t\t- the layout of the event's records
      id\t\t- the event's id (common_type)
      hist\t\t- the event's histograms (hist triggers)
      inject\t\t- write field=value pairs to emit the event
`;
}
