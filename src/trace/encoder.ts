/**
 * Record encoders. Each event gets a fast encoder generated from its layout with `new Function` (straight-line
 * stores into the ring's typed arrays, ASCII strings copied char by char), and shares one safe encoder that
 * handles everything the fast one bails out on: non-ASCII strings (UTF-8), oversized records (truncation), values
 * of the wrong type, throwing getters. Neither throws; problems are counted in shared memory.
 */
import type { EventLayout, FieldLayout } from './layout.js';
import { MAX_PAYLOAD, type RingWriter } from './ring.js';
import { H_BAD_VALUES, H_TRUNCATED, type SharedState } from './shared-state.js';

/**
 * Reserves and fills one record of the event in `w` at time `ts`; returns the payload's byte index (the caller
 * commits or aborts it), or -1 when the record was dropped.
 */
export type Encoder = (values: unknown, w: RingWriter, ts: number) => number;

const TWO32 = 4294967296;
const utf8 = new TextEncoder();
/** Strings longer than this skip the char-by-char ASCII copy (see compileEncoder). */
const LONG_STRING = 96;
type Latin1Writer = Buffer & { latin1Write?: (s: string, offset: number, length: number) => number };

/** Helpers the generated code calls on its slow branches. */
export class EncodeHelpers {
  private readonly s: SharedState;
  lo = 0;
  hi = 0;
  constructor(s: SharedState) {
    this.s = s;
  }

  bad(n: number): void {
    Atomics.add(this.s.header, H_BAD_VALUES, n);
  }

  truncated(n: number): void {
    Atomics.add(this.s.header, H_TRUNCATED, n);
  }

  /** A value for a non-64-bit integer field that failed the fast check: best-effort number (wrapped on store). */
  num(x: unknown): number {
    if (typeof x === 'number') return Number.isFinite(x) ? Math.trunc(x) : 0;
    if (typeof x === 'bigint') return Number(BigInt.asIntN(32, x));
    if (typeof x === 'boolean') return x ? 1 : 0;
    if (typeof x === 'string') {
      const n = Number(x);
      return Number.isFinite(n) ? Math.trunc(n) : 0;
    }
    return 0;
  }

  /** Splits a 64-bit value into this.lo / this.hi; returns 1 when the value was bad (wrong type, out of range). */
  split64(x: unknown, signed: boolean): number {
    let bad = 0;
    let b: bigint;
    if (typeof x === 'bigint') {
      b = x;
      if (signed ? BigInt.asIntN(64, b) !== b : BigInt.asUintN(64, b) !== b) bad = 1;
    } else if (typeof x === 'number' && Number.isFinite(x)) {
      const t = Math.trunc(x);
      if (t !== x || !Number.isSafeInteger(t) || (!signed && t < 0)) bad = 1;
      if (Number.isSafeInteger(t)) {
        const hi = Math.floor(t / TWO32);
        this.hi = hi >>> 0;
        this.lo = (t - hi * TWO32) >>> 0;
        return bad;
      }
      b = BigInt(t);
    } else {
      b = 0n;
      if (typeof x === 'boolean') b = x ? 1n : 0n;
      else bad = 1;
    }
    const u = BigInt.asUintN(64, b);
    this.lo = Number(u & 0xffffffffn);
    this.hi = Number(u >> 32n);
    return bad;
  }

  /** String value of a non-string given for a string field. */
  str(x: unknown): string {
    if (x === undefined || x === null) return '';
    try {
      return String(x);
    } catch {
      return '';
    }
  }

  /** UTF-8 bytes of a string (lone surrogates count as U+FFFD, as TextEncoder writes them). */
  byteLength(s: string): number {
    return Buffer.byteLength(s, 'utf8');
  }

  /** Writes an all-ASCII string (its UTF-8 length equals its length) with Node's native one-byte copy. */
  latin1(buf: Latin1Writer, at: number, s: string, n: number): void {
    if (buf.latin1Write) buf.latin1Write(s, at, n);
    else buf.write(s, at, n, 'latin1');
  }

  /** Writes the `n` UTF-8 bytes of `s` at `at` (TextEncoder.encodeInto accepts SharedArrayBuffer views). */
  utf8(u8: Uint8Array, at: number, s: string, n: number): void {
    utf8.encodeInto(s, u8.subarray(at, at + n));
  }

  /** Writes char[N]; returns the number of problems (1 when truncated or not a string). */
  chars(u8: Uint8Array, at: number, x: unknown, n: number): number {
    let bad = 0;
    let s: string;
    if (typeof x === 'string') s = x;
    else {
      bad = 1;
      s = this.str(x);
    }
    let i = 0;
    const len = s.length;
    for (; i < n && i < len; i++) {
      const c = s.charCodeAt(i);
      if (c > 127) break;
      u8[at + i] = c;
    }
    if (i < n && i < len) {
      // Non-ASCII: encode the rest as UTF-8, cut on a character boundary.
      const rest = utf8.encode(s.slice(i));
      let m = Math.min(rest.length, n - i);
      if (m < rest.length) while (m > 0 && (rest[m] & 0xc0) === 0x80) m--;
      u8.set(rest.subarray(0, m), at + i);
      if (m < rest.length) this.truncated(1);
      i += m;
    } else if (len > n) this.truncated(1);
    u8.fill(0, at + i, at + n);
    return bad;
  }

  /** Writes an integer array field; returns the number of problems. */
  array(
    u8: Uint8Array,
    u16: Uint16Array,
    u32: Uint32Array,
    at: number,
    x: unknown,
    f: { elemSize: number; count: number; signed: boolean },
  ): number {
    let bad = 0;
    let src: ArrayLike<unknown> | undefined;
    if (x !== null && typeof x === 'object' && typeof (x as ArrayLike<unknown>).length === 'number')
      src = x as ArrayLike<unknown>;
    else if (x !== undefined) bad = 1;
    const have = src ? Math.min(src.length, f.count) : 0;
    if (src && src.length > f.count) this.truncated(1);
    for (let i = 0; i < f.count; i++) {
      const v = i < have ? (src as ArrayLike<unknown>)[i] : 0;
      bad += this.int(u8, u16, u32, at + i * f.elemSize, v, f.elemSize, f.signed);
    }
    return bad;
  }

  /** Writes one integer of `size` bytes at byte `p` (narrower ones wrap); returns 1 when the value was bad. */
  int(
    u8: Uint8Array,
    u16: Uint16Array,
    u32: Uint32Array,
    p: number,
    x: unknown,
    size: number,
    signed: boolean,
  ): number {
    if (size === 8) {
      const bad = this.split64(x, signed);
      u32[p >> 2] = this.lo;
      u32[(p >> 2) + 1] = this.hi;
      return bad;
    }
    let bad = 0;
    let n: number;
    if (typeof x === 'number' && Number.isInteger(x)) n = x;
    else {
      n = this.num(x);
      bad = 1;
    }
    if (size === 1) u8[p] = n;
    else if (size === 2) u16[p >> 1] = n;
    else u32[p >> 2] = n;
    return bad;
  }
}

function intCheck(f: FieldLayout, x: string): string {
  switch (f.type) {
    case 'u8':
      return `(${x} & 0xff) !== ${x}`;
    case 's8':
      return `((${x} << 24) >> 24) !== ${x}`;
    case 'u16':
      return `(${x} & 0xffff) !== ${x}`;
    case 's16':
      return `((${x} << 16) >> 16) !== ${x}`;
    case 'u32':
      return `(${x} >>> 0) !== ${x}`;
    default:
      return `(${x} | 0) !== ${x}`;
  }
}

function store(f: FieldLayout, at: string, x: string): string {
  if (f.elemSize === 1) return `u8[${at}] = ${x};`;
  if (f.elemSize === 2) return `u16[(${at}) >> 1] = ${x};`;
  return `u32[(${at}) >> 2] = ${x};`;
}

/** The common header word 0: common_type (u16), common_flags (0), common_preempt_count (0). */
export function headWord(id: number): number {
  return id & 0xffff;
}

/**
 * The slow encoders' start of a record: reserves `size` bytes rounded up to 4, zeroed, with the common header
 * written; returns the payload's byte index or -1 (dropped).
 */
function reserveRecord(w: RingWriter, size: number, ts: number, id: number, pid: number): number {
  const len = (size + 3) & ~3;
  const at = w.reserve(len, ts);
  if (at < 0) return -1;
  w.u8.fill(0, at, at + len);
  w.u32[at >> 2] = headWord(id);
  w.u32[(at >> 2) + 1] = pid | 0;
  return at;
}

/**
 * Generates the fast encoder of an event. Property names are embedded with JSON.stringify (field names are
 * validated identifiers anyway), so no user text reaches the generated code unquoted.
 */
export function compileEncoder(
  id: number,
  layout: EventLayout,
  pid: number,
  h: EncodeHelpers,
  slow: Encoder,
  utf8Mode = false,
): Encoder {
  const L: string[] = [];
  const strings = layout.fields.filter((f) => f.kind === 'string');
  L.push('let bad = 0;');
  strings.forEach((f, k) => {
    L.push(`let s${k} = v[${JSON.stringify(f.name)}];`);
    L.push(`if (typeof s${k} !== 'string') { s${k} = H.str(s${k}); bad++; }`);
    // ASCII mode counts UTF-16 units and bails out at the first non-ASCII one; UTF-8 mode counts bytes.
    L.push(utf8Mode ? `const n${k} = H.byteLength(s${k});` : `const n${k} = s${k}.length;`);
    // Long strings are cheaper through the UTF-8 encoder's native copy than char by char.
    if (!utf8Mode) L.push(`if (n${k} > ${LONG_STRING}) return slow(v, w, ts);`);
  });
  const sizeExpr = [String(layout.fixedSize), ...strings.map((_, k) => `n${k} + 1`)].join(' + ');
  L.push(`const size = ${sizeExpr};`);
  if (strings.length > 0) L.push(`if (size > ${MAX_PAYLOAD}) return slow(v, w, ts);`);
  L.push('const len = (size + 3) & ~3;');
  L.push('const at = w.reserve(len, ts);');
  L.push('if (at < 0) return -1;');
  L.push('const u8 = w.u8, u16 = w.u16, u32 = w.u32;');
  L.push(`u32[at >> 2] = ${headWord(id)};`);
  L.push(`u32[(at >> 2) + 1] = ${pid | 0};`);
  layout.fields.forEach((f, k) => {
    const at = `at + ${f.offset}`;
    const get = `v[${JSON.stringify(f.name)}]`;
    if (f.kind === 'int' && f.elemSize === 8) {
      L.push(`let x${k} = ${get};`);
      L.push(
        `if (typeof x${k} === 'number' && (x${k} >>> 0) === x${k}) { u32[(${at}) >> 2] = x${k}; u32[((${at}) >> 2) + 1] = 0; }`,
      );
      L.push(
        `else { bad += H.split64(x${k}, ${f.signed}); u32[(${at}) >> 2] = H.lo; u32[((${at}) >> 2) + 1] = H.hi; }`,
      );
    } else if (f.kind === 'int') {
      L.push(`let x${k} = ${get};`);
      L.push(`if (typeof x${k} !== 'number' || ${intCheck(f, `x${k}`)}) { x${k} = H.num(x${k}); bad++; }`);
      L.push(store(f, at, `x${k}`));
    } else if (f.kind === 'bool') {
      L.push(`const x${k} = ${get};`);
      L.push(`u8[${at}] = x${k} ? 1 : 0;`);
      L.push(`if (typeof x${k} !== 'boolean' && x${k} !== 0 && x${k} !== 1) bad++;`);
    } else if (f.kind === 'chars') {
      L.push(`bad += H.chars(u8, ${at}, ${get}, ${f.count});`);
    } else if (f.kind === 'array') {
      L.push(
        // The field's own layout object: an object literal here would be allocated at every emit.
        `bad += H.array(u8, u16, u32, ${at}, ${get}, F[${k}]);`,
      );
    }
  });
  if (strings.length > 0) {
    L.push(`let d = at + ${layout.fixedSize};`);
    strings.forEach((f, k) => {
      L.push(`u32[(at + ${f.offset}) >> 2] = ((n${k} + 1) << 16) | (d - at);`);
      if (utf8Mode)
        L.push(`if (n${k} === s${k}.length) H.latin1(w.buf, d, s${k}, n${k}); else H.utf8(u8, d, s${k}, n${k});`);
      else
        L.push(
          `for (let i = 0; i < n${k}; i++) { const c = s${k}.charCodeAt(i); if (c > 127) { w.abort(); return slow(v, w, ts); } u8[d + i] = c; }`,
        );
      L.push(`u8[d + n${k}] = 0; d += n${k} + 1;`);
    });
    L.push('while (d < at + len) u8[d++] = 0;');
  } else if (layout.fixedSize % 4 !== 0) {
    L.push(`for (let d = at + ${layout.fixedSize}; d < at + len; d++) u8[d] = 0;`);
  }
  L.push('if (bad !== 0) H.bad(bad);');
  L.push('return at;');
  const body = `'use strict';\nreturn function encode(v, w, ts) {\n${L.join('\n')}\n};`;
  return new Function('H', 'slow', 'F', body)(h, slow, layout.fields) as Encoder;
}

/** The safe encoder: per-field guarded reads, UTF-8, truncation to fit one page. */
export function safeEncoder(id: number, layout: EventLayout, pid: number, h: EncodeHelpers): Encoder {
  const fields = layout.fields;
  return (values: unknown, w: RingWriter, ts: number): number => {
    let bad = 0;
    const read = (name: string): unknown => {
      try {
        return (values as Record<string, unknown>)[name];
      } catch {
        bad++;
        return undefined;
      }
    };
    if (values === null || typeof values !== 'object') bad++;
    const vals = fields.map((f) => read(f.name));
    // Strings: UTF-8 bytes, cut so the record fits one page.
    const strBytes: Uint8Array[] = [];
    let budget = MAX_PAYLOAD - layout.fixedSize;
    for (let k = 0; k < fields.length; k++) {
      if (fields[k].kind !== 'string') continue;
      const x = vals[k];
      if (typeof x !== 'string') bad++;
      let b = utf8.encode(typeof x === 'string' ? x : h.str(x));
      const room = Math.max(0, budget - 1);
      if (b.length > room) {
        let m = room;
        while (m > 0 && (b[m] & 0xc0) === 0x80) m--;
        b = b.subarray(0, m);
        h.truncated(1);
      }
      budget -= b.length + 1;
      strBytes.push(b);
    }
    let size = layout.fixedSize;
    for (const b of strBytes) size += b.length + 1;
    const at = reserveRecord(w, size, ts, id, pid);
    if (at < 0) return -1;
    const { u8, u16, u32 } = w;
    let d = at + layout.fixedSize;
    let sk = 0;
    for (let k = 0; k < fields.length; k++) {
      const f = fields[k];
      const x = vals[k];
      const p = at + f.offset;
      try {
        if (f.kind === 'string') {
          const b = strBytes[sk++];
          u32[p >> 2] = ((b.length + 1) << 16) | (d - at);
          u8.set(b, d);
          u8[d + b.length] = 0;
          d += b.length + 1;
        } else if (f.kind === 'int') bad += h.int(u8, u16, u32, p, x, f.elemSize, f.signed);
        else if (f.kind === 'bool') {
          u8[p] = x ? 1 : 0;
          if (typeof x !== 'boolean' && x !== 0 && x !== 1) bad++;
        } else if (f.kind === 'chars') bad += h.chars(u8, p, x, f.count);
        else if (f.kind === 'array') bad += h.array(u8, u16, u32, p, x, f);
      } catch {
        bad++;
      }
    }
    if (bad !== 0) h.bad(bad);
    return at;
  };
}

/**
 * Reserves and fills (without committing) a record whose single string field is given as raw bytes (trace_marker_raw's ftrace:raw_data, and
 * trace_marker's ftrace:print when the text is already bytes). `ints` fill the fixed fields before the string.
 */
export function encodeRaw(
  id: number,
  layout: EventLayout,
  pid: number,
  w: RingWriter,
  ts: number,
  ints: readonly number[],
  bytes: Uint8Array,
  nulTerminate: boolean,
): number {
  const str = layout.fields.find((f) => f.kind === 'string');
  if (!str) return -1;
  const max = MAX_PAYLOAD - layout.fixedSize - (nulTerminate ? 1 : 0);
  const b = bytes.length > max ? bytes.subarray(0, max) : bytes;
  const blen = b.length + (nulTerminate ? 1 : 0);
  const at = reserveRecord(w, layout.fixedSize + blen, ts, id, pid);
  if (at < 0) return -1;
  const { u8, u16, u32 } = w;
  let k = 0;
  for (const f of layout.fields) {
    if (f.kind !== 'int') continue;
    const n = ints[k++] ?? 0;
    const p = at + f.offset;
    if (f.elemSize === 8) {
      const hi = Math.floor(n / TWO32);
      u32[p >> 2] = n - hi * TWO32;
      u32[(p >> 2) + 1] = hi;
    } else if (f.elemSize === 4) u32[p >> 2] = n;
    else if (f.elemSize === 2) u16[p >> 1] = n;
    else u8[p] = n;
  }
  u32[(at + str.offset) >> 2] = (blen << 16) | layout.fixedSize;
  u8.set(b, at + layout.fixedSize);
  return at;
}
