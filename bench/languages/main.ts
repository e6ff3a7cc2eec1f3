/**
 * `npm run bench:languages [-- --json]`: cost of the control languages on the emitting thread, each next to a plain
 * JS closure doing the same work (the floor any implementation could reach):
 * - filter predicates by shape (one numeric compare, a prefix glob, a full glob, a 4-term boolean), emit-time on JS
 *   values and read-time on an encoded record;
 * - encoding a record with the engine's encoder, with and without a filter in front;
 * - histogram updates into the shared-memory table (numeric key + val, string key) vs a JS Map.
 */
import { compileEncoder, EncodeHelpers, safeEncoder } from '../../src/trace/encoder.js';
import { NULL_ERROR_LOG } from '../../src/trace/languages/error-sink.js';
import { compileEventFilter } from '../../src/trace/languages/filter/event-filter.js';
import { HistRegistry, type HistTrigger } from '../../src/trace/languages/hist/hist-trigger.js';
import { TriggerSet } from '../../src/trace/languages/trigger/trigger-set.js';
import { computeLayout } from '../../src/trace/layout.js';
import type { EventDescriptor, TraceRecord } from '../../src/trace/record.js';
import type { RingWriter } from '../../src/trace/ring.js';
import type { SharedState } from '../../src/trace/shared-state.js';

const json = process.argv.includes('--json');
const fields = [
  { name: 'method', type: 'string' as const },
  { name: 'url', type: 'string' as const },
  { name: 'status', type: 'u16' as const },
  { name: 'bytes', type: 'u32' as const },
];
const event: EventDescriptor = { id: 700, system: 'http', name: 'request', fields, layout: computeLayout(fields) };
const ctx = { pid: process.pid, cpu: 0, comm: 'bench' };

const urls = ['/api/users', '/static/app.js', '/api/orders/17', '/index.html', '/apix', '/health'];
const methods = ['GET', 'POST', 'PUT', 'GET'];
const values = Array.from({ length: 64 }, (_, i) => ({
  method: methods[i % methods.length],
  url: urls[i % urls.length],
  status: [200, 404, 500, 503, 302][i % 5],
  bytes: (i * 7919) % 5000,
}));

const sink = { n: 0 };
/**
 * ns/op of `fn` (second-best of 7 rounds). Each case gets its own copy of the timing loop (built with new Function)
 * so that V8's type feedback for one case does not slow down the next.
 */
function measure(fn: (i: number) => unknown, n = 2_000_000): number {
  const loop = new Function(
    'fn',
    'n',
    'sink',
    'const t0 = process.hrtime.bigint(); for (let i = 0; i < n; i++) if (fn(i & 63)) sink.n++; return Number(process.hrtime.bigint() - t0) / n;',
  ) as (f: typeof fn, n: number, s: typeof sink) => number;
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) rounds.push(loop(fn, n, sink));
  rounds.sort((a, b) => a - b);
  return rounds[1];
}

function filter(text: string) {
  const r = compileEventFilter(event, text, NULL_ERROR_LOG);
  if (!r.ok) throw new Error(`${text}: ${r.error.message}`);
  return r.filter;
}

const results: Record<string, number> = {};
const add = (name: string, ns: number) => {
  results[name] = Math.round(ns * 100) / 100;
};

// Filter shapes, each next to the closure a programmer would write by hand.
const shapes: [string, string, (v: (typeof values)[number]) => boolean][] = [
  ['numeric', 'status >= 500', (v) => v.status >= 500],
  ['prefix glob', 'url ~ "/api/*"', (v) => v.url.startsWith('/api/')],
  ['full glob', 'url ~ "/a?i/*"', (v) => /^\/a.i\//.test(v.url)],
  [
    '4-term boolean',
    'status >= 500 && bytes > 1000 || method == "POST" && url ~ "/api/*"',
    (v) => (v.status >= 500 && v.bytes > 1000) || (v.method === 'POST' && v.url.startsWith('/api/')),
  ],
];

// Records encoded by the engine's encoder, for the read-time evaluator and the encode benchmark.
class BufferWriter {
  readonly buf = new ArrayBuffer(1 << 16);
  readonly u8 = new Uint8Array(this.buf);
  readonly u16 = new Uint16Array(this.buf);
  readonly u32 = new Uint32Array(this.buf);
  at = 0;
  len = 0;
  reserve(len: number): number {
    this.len = len;
    const at = this.at;
    this.at = (this.at + len) & 0x7fff;
    return at;
  }
  commit(): void {}
  abort(): void {}
}
const helpers = new EncodeHelpers({ header: new Int32Array(64) } as unknown as SharedState);
const slow = safeEncoder(event.id, event.layout, ctx.pid, helpers);
const encode = compileEncoder(event.id, event.layout, ctx.pid, helpers, slow);
const records: TraceRecord[] = values.map((v) => {
  const w = new BufferWriter();
  const at = w.reserve(0);
  encode(v, w as unknown as RingWriter, 0);
  return { cpu: 0, ts: 0n, id: event.id, event, data: w.u8.slice(at, at + w.len), comm: 'bench', pid: ctx.pid };
});

for (const [name, text, closure] of shapes) {
  const f = filter(text);
  for (let i = 0; i < 64; i++) {
    if (f.matchValues(values[i], ctx) !== closure(values[i])) throw new Error(`${name}: disagrees with closure`);
  }
  add(
    `filter ${name}: compiled`,
    measure((i) => f.matchValues(values[i], ctx)),
  );
  add(
    `filter ${name}: plain closure`,
    measure((i) => closure(values[i])),
  );
  add(
    `filter ${name}: on record`,
    measure((i) => f.matchRecord(records[i]), 500_000),
  );
}

// Emit path: encoding alone vs the filter in front of it.
{
  const w = new BufferWriter() as unknown as RingWriter;
  const f = filter('status >= 500');
  add(
    'encode: no filter',
    measure((i) => encode(values[i], w, 0)),
  );
  add(
    'encode: with filter status >= 500',
    measure((i) => (f.matchValues(values[i], ctx) ? encode(values[i], w, 0) : 0)),
  );
}

// Histogram updates through the trigger set (filter-less), vs a Map.
{
  const reg = new HistRegistry(4);
  const control = { eventExists: () => true, softEnable() {} };
  const set = new TriggerSet(event, reg.factory);
  set.write('hist:keys=status:vals=bytes', control, NULL_ERROR_LOG);
  const h = set.histTriggers()[0] as HistTrigger;
  add(
    'hist update numeric key + val: shared table',
    measure((i) => h.update(values[i], ctx)),
  );
  const m = new Map<number, { hits: number; bytes: number }>();
  add(
    'hist update numeric key + val: JS Map',
    measure((i) => {
      const v = values[i];
      const e = m.get(v.status);
      if (e) {
        e.hits++;
        e.bytes += v.bytes;
      } else m.set(v.status, { hits: 1, bytes: v.bytes });
      return undefined;
    }),
  );
  set.write('hist:keys=url', control, NULL_ERROR_LOG);
  const hs = set.histTriggers()[0] as HistTrigger;
  add(
    'hist update string key: shared table',
    measure((i) => hs.update(values[i], ctx)),
  );
  const ms = new Map<string, number>();
  add(
    'hist update string key: JS Map',
    measure((i) => ms.set(values[i].url, (ms.get(values[i].url) ?? 0) + 1) && 0),
  );
}

if (json) console.log(JSON.stringify(results));
else {
  console.log('case'.padEnd(52), 'ns/op');
  for (const [k, v] of Object.entries(results)) console.log(k.padEnd(52), v.toFixed(2));
}
if (sink.n === -1) console.log(sink.n);
