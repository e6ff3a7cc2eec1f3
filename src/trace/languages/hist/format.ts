/** The `hist` file (hist_show / hist_trigger_entry_print): header, one line per entry, totals. */

import { keyFieldBytes } from './key.js';
import type { HistFieldSpec, HistSpec } from './spec.js';
import type { HistEntry, HistSnapshot } from './table.js';

function u64At(key: Uint8Array, at: number): bigint {
  const dv = new DataView(key.buffer, key.byteOffset, key.byteLength);
  return dv.getBigUint64(at, true);
}

/** A sum as the kernel's u64 (doubles hold the signed running sum). */
export function sumU64(x: number): bigint {
  return BigInt.asUintN(64, BigInt(Math.trunc(x)));
}

function pad(s: string, w: number): string {
  return s.length >= w ? s : ' '.repeat(w - s.length) + s;
}

function padEnd(s: string, w: number): string {
  return s.length >= w ? s : s + ' '.repeat(w - s.length);
}

function keyOffsets(spec: HistSpec): number[] {
  const out: number[] = [];
  let at = 0;
  for (const k of spec.keys) {
    out.push(at);
    at += keyFieldBytes(k);
  }
  return out;
}

function stringAt(key: Uint8Array, at: number, len: number): string {
  const b = key.subarray(at, at + len);
  const end = b.indexOf(0);
  return Buffer.from(b.subarray(0, end < 0 ? len : end)).toString('utf8');
}

function printKey(f: HistFieldSpec, key: Uint8Array, at: number, comm: string): string {
  if (f.string) return `${f.name}: ${padEnd(stringAt(key, at, keyFieldBytes(f)), 50)}`;
  const v = u64At(key, at);
  switch (f.flag) {
    case 'hex':
      return `${f.name}: ${v.toString(16)}`;
    case 'sym':
      // No kernel symbols in a Node process: printed like an address the kernel cannot resolve.
      return `${f.name}: [${v.toString(16)}] ${padEnd(`0x${v.toString(16)}`, 45)}`;
    case 'sym-offset':
      return `${f.name}: [${v.toString(16)}] ${padEnd(`0x${v.toString(16)}`, 55)}`;
    case 'execname':
      return `${f.name}: ${padEnd(comm, 16)}[${pad(v.toString(), 10)}]`;
    case 'log2':
      return `${f.name}: ~ 2^${padEnd(v.toString(), 2)}`;
    case 'buckets':
      return `${f.name}: ~ ${v}-${v + BigInt(f.buckets) - 1n}`;
    default:
      return `${f.name}: ${pad(v.toString(), 10)}`;
  }
}

function entryLine(spec: HistSpec, offs: number[], e: HistEntry): string {
  let s = `{ ${spec.keys.map((k, i) => printKey(k, e.key, offs[i], e.comm)).join(', ')} }`;
  s += ` hitcount: ${pad(sumU64(e.sums[0]).toString(), 10)}`;
  spec.vals.forEach((v, i) => {
    const x = sumU64(e.sums[i + 1]);
    s += `  ${v.name}: ${pad(v.flag === 'hex' ? x.toString(16) : x.toString(), 10)}`;
  });
  return `${s}\n`;
}

/** Compares two entries on one sort key the way tracing_map does (sums as u64, keys as their field type). */
function compareOn(spec: HistSpec, offs: number[], index: number, a: HistEntry, b: HistEntry): number {
  if (index <= spec.vals.length) {
    const x = sumU64(a.sums[index]);
    const y = sumU64(b.sums[index]);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const k = index - spec.vals.length - 1;
  const f = spec.keys[k];
  const at = offs[k];
  if (f.string) {
    const x = Buffer.from(a.key.subarray(at, at + keyFieldBytes(f)));
    return x.compare(Buffer.from(b.key.subarray(at, at + keyFieldBytes(f))));
  }
  let x = u64At(a.key, at);
  let y = u64At(b.key, at);
  if (f.signed && !f.flag) {
    x = BigInt.asIntN(64, x);
    y = BigInt.asIntN(64, y);
  }
  return x < y ? -1 : x > y ? 1 : 0;
}

export function sortEntries(spec: HistSpec, entries: HistEntry[]): HistEntry[] {
  const offs = keyOffsets(spec);
  return entries.sort((a, b) => {
    for (const sk of spec.sort) {
      const c = compareOn(spec, offs, sk.index, a, b);
      if (c !== 0) return sk.descending ? -c : c;
    }
    return Buffer.from(a.key).compare(Buffer.from(b.key));
  });
}

/** One trigger's section of the `hist` file. */
export function formatHist(spec: HistSpec, describe: string, snap: HistSnapshot): string {
  const offs = keyOffsets(spec);
  let s = `# event histogram\n#\n# trigger info: ${describe}\n#\n\n`;
  for (const e of sortEntries(spec, snap.entries)) s += entryLine(spec, offs, e);
  s += `\nTotals:\n    Hits: ${sumU64(snap.hits)}\n    Entries: ${snap.entries.length}\n    Dropped: ${sumU64(snap.drops)}\n`;
  return s;
}
