/**
 * `ntrace export --format chrome-json`: a recording converted to the Trace Event Format and checked against it —
 * every event well-formed, spans balanced (one complete event per start/end pair, matched by key and thread), the
 * fields as args, µs timestamps equal to trace-cmd's — from a file and straight from a mounted TARGET.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MountClient } from '../../src/client/index.js';
import { exportChromeJson } from '../../src/export/index.js';
import { defineEvent } from '../../src/index.js';
import { record } from '../../src/record/index.js';
import { report, scratch } from '../record/support.js';
import { mountTracefs, uniqueSystem } from '../tracefs/helpers.js';

interface TraceEvent {
  name: string;
  cat?: string;
  ph: string;
  ts?: number;
  dur?: number;
  pid: number;
  tid?: number;
  s?: string;
  args?: Record<string, unknown>;
}

/** The Trace Event Format's rules for the phases ntrace writes; returns the events. */
function validate(path: string): TraceEvent[] {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as { traceEvents: TraceEvent[]; displayTimeUnit?: string };
  assert.ok(Array.isArray(doc.traceEvents), 'traceEvents array');
  for (const e of doc.traceEvents) {
    assert.equal(typeof e.name, 'string', JSON.stringify(e));
    assert.ok(['i', 'X', 'M'].includes(e.ph), `phase ${e.ph}`);
    assert.ok(Number.isInteger(e.pid), 'pid');
    if (e.ph === 'M') {
      assert.ok(['thread_name', 'process_name'].includes(e.name));
      assert.equal(typeof e.args?.name, 'string');
      continue;
    }
    assert.ok(Number.isInteger(e.tid), 'tid');
    assert.ok(typeof e.ts === 'number' && Number.isFinite(e.ts) && e.ts >= 0, 'ts');
    assert.equal(typeof e.cat, 'string');
    assert.equal(typeof e.args, 'object');
    if (e.ph === 'i') assert.equal(e.s, 't');
    if (e.ph === 'X') assert.ok(typeof e.dur === 'number' && e.dur >= 0, `dur ${e.dur}`);
  }
  return doc.traceEvents;
}

test('a recording with start/end pairs: spans balanced by key and thread, instants for the rest', async (t) => {
  const m = await mountTracefs(t);
  const dir = scratch(t);
  const sys = uniqueSystem('exp');
  const start = defineEvent(sys, 'request_start', { id: 'u32', url: 'string' });
  const end = defineEvent(sys, 'request_end', { id: 'u32', status: 'u16' });
  const note = defineEvent(sys, 'note', { text: 'string' });
  t.after(() => {
    start.remove();
    end.remove();
    note.remove();
  });
  const dat = join(dir, 'spans.dat');
  const stop = new AbortController();
  await record({
    tree: new MountClient(m.mountpoint),
    events: [sys],
    output: dat,
    signal: stop.signal,
    onStarted: async () => {
      // Interleaved requests: ids 0..9 start, then end in reverse order; one start never ends, one end never started.
      for (let id = 0; id < 10; id++) start.emit({ id, url: `/r/${id}` });
      await new Promise((r) => setTimeout(r, 5));
      note.emit({ text: 'halfway' });
      for (let id = 9; id >= 1; id--) end.emit({ id, status: 200 + id });
      end.emit({ id: 99, status: 500 });
      stop.abort();
    },
  });
  const json = join(dir, 'spans.json');
  const r = exportChromeJson(dat, json);
  assert.deepEqual(r, { events: 21, spans: 9, instants: 3 });
  const events = validate(json);
  const spans = events.filter((e) => e.ph === 'X');
  assert.equal(spans.length, 9);
  for (const s of spans) {
    assert.equal(s.name, 'request');
    const id = s.args?.id as number;
    assert.deepEqual(s.args, { id, url: `/r/${id}`, status: 200 + id });
  }
  const instants = events.filter((e) => e.ph === 'i').map((e) => `${e.name}:${JSON.stringify(e.args)}`);
  assert.deepEqual(instants.sort(), [
    'note:{"text":"halfway"}',
    'request_end:{"id":99,"status":500}',
    'request_start:{"id":0,"url":"/r/0"}',
  ]);
  assert.ok(events.some((e) => e.ph === 'M' && e.name === 'thread_name'));
  // Timestamps are trace-cmd's, in µs.
  const reported = report(dat).find((l) => l.event === 'note');
  const noteEvent = events.find((e) => e.name === 'note')!;
  assert.ok(Math.abs(noteEvent.ts! / 1e6 - reported!.ts) < 2e-6, `${noteEvent.ts} µs vs ${reported!.ts} s`);
});

test('ntrace export TARGET --duration: records the mount, then converts', async (t) => {
  const m = await mountTracefs(t);
  const dir = scratch(t);
  const sys = uniqueSystem('exptgt');
  const ev = defineEvent(sys, 'ping', { n: 'u32' });
  t.after(() => ev.remove());
  const out = join(dir, 'live.json');
  const cli = new URL('../../src/cli/main.js', import.meta.url).pathname;
  const child = spawn(
    process.execPath,
    [cli, 'export', m.mountpoint, '--format', 'chrome-json', '-e', sys, '--duration', '1.5', '-o', out],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let n = 0;
  let done = false;
  void exited.then(() => {
    done = true;
  });
  while (!done) {
    if (ev.enabled) ev.emit({ n: n++ });
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(await exited, 0, stderr);
  const pings = validate(out).filter((e) => e.name === 'ping');
  assert.ok(pings.length > 10, `${pings.length} pings`);
  assert.deepEqual(
    pings.map((p) => p.args?.n),
    Array.from({ length: pings.length }, (_, i) => i),
  );
});
