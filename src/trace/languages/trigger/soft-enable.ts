/**
 * The kernel's per-event enable flags and their soft mode (trace_events.c __ftrace_event_enable_disable), as a small
 * model: ENABLED (the tracepoint is live), SOFT_MODE (something — a trigger — holds it live), SOFT_DISABLED (live
 * but not recording), with the soft-mode reference count. The `enable` file shows `0`, `1`, `0*` or `1*` from these.
 * The engine keeps the real flags in shared memory; this model is the reference its wiring follows (and what the
 * trigger tests run against).
 */

export interface EnableFlags {
  enabled: boolean;
  softMode: boolean;
  softDisabled: boolean;
  smRef: number;
}

export function newEnableFlags(): EnableFlags {
  return { enabled: false, softMode: false, softDisabled: false, smRef: 0 };
}

/** trace_event_enable_disable(file, enable, soft): `soft` is how triggers take and release an event. */
export function enableDisable(f: EnableFlags, enable: boolean, soft: boolean): void {
  if (!enable) {
    let disable: boolean;
    if (soft) {
      if (f.smRef > 0) f.smRef--;
      if (f.smRef > 0) return;
      disable = f.softDisabled;
      f.softMode = false;
    } else disable = !f.softMode;
    if (disable && f.enabled) f.enabled = false;
    f.softDisabled = f.softMode;
    return;
  }
  if (!soft) f.softDisabled = false;
  else {
    f.smRef++;
    if (f.smRef > 1) return;
    f.softMode = true;
  }
  if (!f.enabled) {
    if (soft) f.softDisabled = true;
    f.enabled = true;
  }
}

/** Content of the event's `enable` file (without the newline). */
export function enableText(f: EnableFlags): '0' | '1' | '0*' | '1*' {
  const on = f.enabled && !f.softDisabled;
  return f.softMode ? (on ? '1*' : '0*') : on ? '1' : '0';
}

/** Whether an emit is written to the ring buffer. */
export function isRecording(f: EnableFlags): boolean {
  return f.enabled && !f.softDisabled;
}
