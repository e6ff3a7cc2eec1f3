/** Small list files: `saved_cmdlines` and `available_events`. */

/** `saved_cmdlines`: one `<pid> <comm>` line per remembered task. */
export function savedCmdlinesText(entries: Iterable<{ readonly pid: number; readonly comm: string }>): string {
  let s = '';
  for (const e of entries) s += `${e.pid} ${e.comm}\n`;
  return s;
}

/** `available_events`: one `<system>:<event>` line per defined event. */
export function availableEventsText(events: Iterable<{ readonly system: string; readonly name: string }>): string {
  let s = '';
  for (const e of events) s += `${e.system}:${e.name}\n`;
  return s;
}
