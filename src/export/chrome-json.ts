/**
 * trace.dat → the Trace Event Format (JSON) that Perfetto and chrome://tracing open. Streamed: records are read one
 * page per CPU at a time and written out in ~1 MiB chunks; only spans still open are held (bounded, see MAX_OPEN).
 *
 * - every record is an instant event (`ph: "i"`, thread scope), `name` the event, `cat` its system, `args` its fields;
 * - a declared span pair becomes one complete event (`ph: "X"`, `dur`) from the start record to the matching end
 *   record: the same thread (CPU) and the same key fields. `X_start`/`X_end` events of one system pair by default,
 *   keyed by the fields both have; `spans` adds pairs (`sys:start,sys:end[,key…]`);
 * - `pid` is the record's common_pid, `tid` its CPU (ntrace: its thread), named by thread-name metadata events;
 * - `ts`/`dur` in microseconds of the trace clock.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { decodeFields, type EventFormat, type FieldValue, recordPid, recordType } from './event-format.js';
import { TraceDatReader } from './trace-dat-reader.js';

export interface SpanPair {
  readonly start: string; // system:event
  readonly end: string;
  /** Fields that must be equal; default: every field both events have. */
  readonly key?: readonly string[];
}

export interface ExportOptions {
  readonly spans?: readonly SpanPair[];
  /** Default true: pair `X_start`/`X_end` of a system automatically. */
  readonly autoSpans?: boolean;
}

export interface ExportResult {
  readonly events: number;
  readonly spans: number;
  readonly instants: number;
}

/** Open spans kept at most; beyond it the oldest start is written as an instant (memory stays bounded). */
const MAX_OPEN = 100_000;
const FLUSH_BYTES = 1 << 20;

/** Parses `sys:start,sys:end[,key…]`. */
export function parseSpan(spec: string): SpanPair {
  const [start, end, ...key] = spec.split(',');
  if (!start?.includes(':') || !end?.includes(':'))
    throw new RangeError(`bad span '${spec}': expected SYS:START,SYS:END[,FIELD…]`);
  return { start, end, key: key.length ? key : undefined };
}

interface PairRole {
  readonly pair: number;
  readonly role: 'start' | 'end';
  readonly key: readonly string[];
}

function rolesOf(formats: Iterable<EventFormat>, opts: ExportOptions): Map<number, PairRole> {
  const byName = new Map<string, EventFormat>();
  for (const f of formats) byName.set(`${f.system}:${f.name}`, f);
  const pairs: SpanPair[] = [...(opts.spans ?? [])];
  if (opts.autoSpans !== false) {
    for (const [name] of byName) {
      const m = /^(.*)_start$/.exec(name);
      if (m && byName.has(`${m[1]}_end`) && !pairs.some((p) => p.start === name))
        pairs.push({ start: name, end: `${m[1]}_end` });
    }
  }
  const roles = new Map<number, PairRole>();
  pairs.forEach((p, i) => {
    const s = byName.get(p.start);
    const e = byName.get(p.end);
    if (!s || !e) return;
    const endNames = new Set(e.fields.map((f) => f.name));
    const key = p.key ?? s.fields.map((f) => f.name).filter((n) => endNames.has(n));
    roles.set(s.id, { pair: i, role: 'start', key });
    roles.set(e.id, { pair: i, role: 'end', key });
  });
  return roles;
}

interface OpenSpan {
  readonly ts: number;
  readonly name: string;
  readonly cat: string;
  readonly pid: number;
  readonly tid: number;
  readonly args: object;
}

const us = (ns: number): number => Math.round(ns) / 1000;

/** Converts `input` (a trace.dat) to Trace Event Format JSON at `output`. */
export function exportChromeJson(input: string, output: string, opts: ExportOptions = {}): ExportResult {
  const reader = new TraceDatReader(input);
  const fd = openSync(output, 'w', 0o644);
  let chunk: string[] = [];
  let chunkBytes = 0;
  let first = true;
  const emit = (ev: object): void => {
    const s = (first ? '\n' : ',\n') + JSON.stringify(ev);
    first = false;
    chunk.push(s);
    chunkBytes += s.length;
    if (chunkBytes >= FLUSH_BYTES) flush();
  };
  const flush = (): void => {
    if (chunk.length) writeSync(fd, chunk.join(''));
    chunk = [];
    chunkBytes = 0;
  };
  let events = 0;
  let spans = 0;
  let instants = 0;
  try {
    writeSync(fd, '{"displayTimeUnit":"ns","traceEvents":[');
    const roles = rolesOf(reader.formats.values(), opts);
    /** Open starts by pair, thread and key, oldest first. */
    const open = new Map<string, OpenSpan[]>();
    let openCount = 0;
    const threads = new Map<string, { pid: number; tid: number }>();
    const instant = (name: string, cat: string, ts: number, pid: number, tid: number, args: object): void => {
      emit({ name, cat, ph: 'i', s: 't', ts: us(ts), pid, tid, args });
      instants++;
    };
    for (const rec of reader.records()) {
      events++;
      const format = reader.formats.get(recordType(rec.data));
      const pid = recordPid(rec.data);
      const tid = rec.cpu;
      threads.set(`${pid}/${tid}`, { pid, tid });
      if (!format) {
        instant(`unknown:${recordType(rec.data)}`, 'unknown', rec.ts, pid, tid, {});
        continue;
      }
      const args = decodeFields(format, rec.data);
      const role = roles.get(format.id);
      if (!role) {
        instant(format.name, format.system, rec.ts, pid, tid, args);
        continue;
      }
      const k = `${role.pair}/${pid}/${tid}/${keyOf(role.key, args)}`;
      if (role.role === 'start') {
        if (openCount >= MAX_OPEN) {
          // Bounded memory: the oldest open start is given up as an instant.
          const [oldestKey, list] = open.entries().next().value as [string, OpenSpan[]];
          const o = list.shift()!;
          if (list.length === 0) open.delete(oldestKey);
          openCount--;
          instant(o.name, o.cat, o.ts, o.pid, o.tid, o.args);
        }
        const list = open.get(k) ?? [];
        list.push({ ts: rec.ts, name: format.name, cat: format.system, pid, tid, args });
        open.set(k, list);
        openCount++;
        continue;
      }
      const list = open.get(k);
      const start = list?.shift();
      if (!start) {
        instant(format.name, format.system, rec.ts, pid, tid, args);
        continue;
      }
      if (list!.length === 0) open.delete(k);
      openCount--;
      const name = start.name.replace(/_start$/, '');
      emit({
        name,
        cat: format.system,
        ph: 'X',
        ts: us(start.ts),
        dur: us(rec.ts - start.ts),
        pid,
        tid,
        args: { ...start.args, ...args },
      });
      spans++;
    }
    for (const list of open.values()) for (const o of list) instant(o.name, o.cat, o.ts, o.pid, o.tid, o.args);
    for (const { pid, tid } of threads.values()) {
      const comm = reader.comms.get(pid) ?? `pid ${pid}`;
      emit({ name: 'thread_name', ph: 'M', pid, tid, args: { name: `${comm} cpu${tid}` } });
    }
    for (const pid of new Set([...threads.values()].map((t) => t.pid)))
      emit({ name: 'process_name', ph: 'M', pid, args: { name: reader.comms.get(pid) ?? `pid ${pid}` } });
    flush();
    writeSync(fd, '\n]}\n');
  } finally {
    closeSync(fd);
    reader.close();
  }
  return { events, spans, instants };
}

function keyOf(key: readonly string[], args: Record<string, FieldValue>): string {
  return JSON.stringify(key.map((k) => args[k]));
}
