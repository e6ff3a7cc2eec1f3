/**
 * What an event spec on a command line selects in a tracing directory: `SYSTEM`, `SYSTEM:EVENT`, or `all` (every
 * event: the top enable file, no filter file) — for `ntrace record` and `ntrace tail` alike.
 */
export interface EventSelection {
  /** The enable file, relative to an instance directory. */
  readonly enable: string;
  /** The filter file, relative to an instance directory; '' for `all` (the kernel has no top filter file). */
  readonly filter: string;
}

export function eventSelection(spec: string): EventSelection {
  const parts = spec.split(':');
  const [system, event] = parts;
  if (!system || parts.length > 2 || event === '')
    throw new RangeError(`bad event '${spec}': expected SYSTEM or SYSTEM:EVENT`);
  if (system === 'all' && event === undefined) return { enable: 'events/enable', filter: '' };
  const base = event ? `events/${system}/${event}` : `events/${system}`;
  return { enable: `${base}/enable`, filter: `${base}/filter` };
}
