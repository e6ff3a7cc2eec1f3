/** Shared by the recording tests: reading a trace.dat back with trace-cmd, and what `trace` shows. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

/** A scratch directory removed after the test. */
export function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ntrace-record-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs trace-cmd; fails the test on a non-zero exit or on anything on stderr (a warning is a failure too). */
export function traceCmd(...args: string[]): string {
  const r = spawnSync('trace-cmd', args, { encoding: 'utf8', timeout: 60_000, maxBuffer: 256 << 20 });
  if (r.error) throw new Error(`trace-cmd ${args.join(' ')}: ${r.error.message} (install Debian's trace-cmd)`);
  assert.equal(r.status, 0, `trace-cmd ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  assert.equal(r.stderr.trim(), '', `trace-cmd ${args.join(' ')} warned`);
  return r.stdout;
}

export interface ReportLine {
  readonly comm: string;
  readonly cpu: number;
  readonly ts: number;
  readonly event: string;
  readonly fields: string;
}

/** `trace-cmd report` lines (`[instance:] comm-pid [cpu] ts: event: fields`). */
export function report(file: string, ...args: string[]): ReportLine[] {
  const out: ReportLine[] = [];
  for (const line of traceCmd('report', ...args, file).split('\n')) {
    const m = /^\s*(?:\S+:\s+)?(.+)-[0-9]+\s+\[([0-9]+)\]\s+([0-9.]+):\s+(\S+):\s+(.*)$/.exec(line);
    if (m) out.push({ comm: m[1].trim(), cpu: Number(m[2]), ts: Number(m[3]), event: m[4], fields: m[5].trim() });
  }
  return out;
}

/** `trace` file lines as (event, fields), in order. */
export function traceLines(text: string): { event: string; fields: string; ts: number }[] {
  const out: { event: string; fields: string; ts: number }[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /\s([0-9]+\.[0-9]+):\s+(\S+):\s+(.*)$/.exec(line);
    if (m) out.push({ ts: Number(m[1]), event: m[2], fields: m[3].trim() });
  }
  return out;
}
