/** Event specs for `ntrace serve --events SPEC.json`: the shape of test/fixtures/kernel-events.json. */
import { readFileSync } from 'node:fs';
import { defineEvent, type FieldDeclarations, type FieldType, type TraceEvent } from '../index.js';

export interface EventSpec {
  readonly systems: readonly {
    readonly name: string;
    readonly events: readonly {
      readonly name: string;
      readonly fields: readonly { readonly name: string; readonly type: string }[];
      readonly print?: string;
    }[];
  }[];
}

/** Reads and checks a spec file; throws an Error saying what is wrong. */
export function readSpec(path: string): EventSpec {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
  const systems = (json as EventSpec | null)?.systems;
  if (!Array.isArray(systems)) throw new Error(`${path}: expected {"systems": [...]}`);
  for (const s of systems) {
    if (typeof s?.name !== 'string' || !Array.isArray(s.events))
      throw new Error(`${path}: every system needs a "name" and an "events" array`);
    for (const e of s.events) {
      if (typeof e?.name !== 'string' || !Array.isArray(e.fields))
        throw new Error(`${path}: event ${s.name}:${e?.name} needs a "name" and a "fields" array`);
    }
  }
  return json as EventSpec;
}

/**
 * Defines every event of the spec; returns the tracepoints and the problems (one line each) of those refused.
 * Events ntrace defines itself (ftrace:print, ftrace:raw_data, ftrace:kernel_stack, which kernel specs list too) are
 * skipped silently.
 */
/** ftrace events the engine defines itself (src/trace/builtin-events.ts). */
const NTRACE_DEFINES = new Set(['print', 'raw_data', 'kernel_stack']);

export function defineSpec(spec: EventSpec): { events: TraceEvent[]; problems: string[] } {
  const events: TraceEvent[] = [];
  const problems: string[] = [];
  for (const s of spec.systems) {
    for (const e of s.events) {
      if (s.name === 'ftrace' && NTRACE_DEFINES.has(e.name)) continue;
      const fields: Record<string, FieldType> = {};
      for (const f of e.fields) fields[f.name] = f.type as FieldType;
      try {
        events.push(
          defineEvent(s.name, e.name, fields as FieldDeclarations, e.print !== undefined ? { print: e.print } : {}),
        );
      } catch (err) {
        problems.push(`${s.name}:${e.name}: ${(err as Error).message}`);
      }
    }
  }
  return { events, problems };
}
