/** Test helpers: decoding record bytes by layout (independently of the encoder), generating field values, reading buffers. */
import { TraceIterator } from '../../../src/trace/engine.js';
import type { EventLayout, FieldLayout } from '../../../src/trace/layout.js';
import type { TraceRecord } from '../../../src/trace/record.js';

export type Decoded = Record<string, number | bigint | boolean | string | Array<number | bigint>>;

function readInt(dv: DataView, off: number, size: number, signed: boolean): number | bigint {
  switch (size) {
    case 1:
      return signed ? dv.getInt8(off) : dv.getUint8(off);
    case 2:
      return signed ? dv.getInt16(off, true) : dv.getUint16(off, true);
    case 4:
      return signed ? dv.getInt32(off, true) : dv.getUint32(off, true);
    default:
      return signed ? dv.getBigInt64(off, true) : dv.getBigUint64(off, true);
  }
}

function field(dv: DataView, bytes: Uint8Array, f: FieldLayout): Decoded[string] {
  switch (f.kind) {
    case 'int':
      return readInt(dv, f.offset, f.size, f.signed);
    case 'bool':
      return dv.getUint8(f.offset) !== 0;
    case 'chars': {
      const raw = bytes.subarray(f.offset, f.offset + f.count);
      const nul = raw.indexOf(0);
      return new TextDecoder().decode(nul < 0 ? raw : raw.subarray(0, nul));
    }
    case 'array': {
      const out: Array<number | bigint> = [];
      for (let i = 0; i < f.count; i++) out.push(readInt(dv, f.offset + i * f.elemSize, f.elemSize, f.signed));
      return out;
    }
    case 'string': {
      const loc = dv.getUint32(f.offset, true);
      const off = loc & 0xffff;
      const len = loc >>> 16;
      if (len === 0 || off + len > bytes.length) throw new Error(`bad __data_loc ${loc.toString(16)}`);
      if (bytes[off + len - 1] !== 0) throw new Error('string not NUL-terminated');
      return new TextDecoder().decode(bytes.subarray(off, off + len - 1));
    }
  }
}

/** Decodes a record's fields (and checks the common header). */
export function decode(layout: EventLayout, data: Uint8Array): Decoded {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: Decoded = {};
  for (const f of layout.fields) out[f.name] = field(dv, data, f);
  return out;
}

export function decodeRecord(r: TraceRecord): Decoded {
  if (!r.event) throw new Error(`record of unknown event ${r.id}`);
  return decode(r.event.layout, r.data);
}

const INT_BITS: Record<string, number> = { u8: 8, u16: 16, u32: 32, u64: 64, s8: 8, s16: 16, s32: 32, s64: 64 };

/** A random integer of the type: number for ≤32 bits, bigint for 64 bits. */
export function randomInt(type: string, r: () => number): number | bigint {
  const bits = INT_BITS[type];
  const signed = type[0] === 's';
  if (bits === 64) {
    const v = (BigInt(Math.floor(r() * 2 ** 32)) << 32n) | BigInt(Math.floor(r() * 2 ** 32));
    return signed ? BigInt.asIntN(64, v) : v;
  }
  const u = Math.floor(r() * 2 ** bits);
  return signed && u >= 2 ** (bits - 1) ? u - 2 ** bits : u;
}

/** A random value for a field type, and the value decoding should give back. */
export function randomValue(type: string, r: () => number): { value: unknown; expect: Decoded[string] } {
  if (type in INT_BITS) {
    const v = randomInt(type, r);
    return { value: v, expect: v };
  }
  if (type === 'bool') {
    const v = r() < 0.5;
    return { value: v, expect: v };
  }
  if (type === 'string') {
    const v = randomText(r, Math.floor(r() * 40));
    return { value: v, expect: v };
  }
  const m = /^(\w+)\[(\d+)\]$/.exec(type);
  if (!m) throw new Error(`unknown type ${type}`);
  const n = Number(m[2]);
  if (m[1] === 'char') {
    const v = randomAscii(r, Math.floor(r() * (n + 1)));
    return { value: v, expect: v };
  }
  const arr = Array.from({ length: n }, () => randomInt(m[1], r));
  return { value: arr, expect: arr };
}

export function randomAscii(r: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(32 + Math.floor(r() * 95));
  return s;
}

const SAMPLES = ['é', 'ß', '€', '日本', '😀', 'ΩΣ'];
export function randomText(r: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++)
    s += r() < 0.15 ? SAMPLES[Math.floor(r() * SAMPLES.length)] : String.fromCharCode(32 + Math.floor(r() * 95));
  return s;
}

/** The field `n` of every record in an instance's buffer, oldest first (the buffer is not consumed). */
export function recordedNs(inst: number): Decoded[string][] {
  return drain(new TraceIterator(inst)).map((r) => decodeRecord(r).n);
}

/** Drains a reader into an array. */
export function drain(reader: { next(): TraceRecord | undefined }): TraceRecord[] {
  const out: TraceRecord[] = [];
  for (let r = reader.next(); r !== undefined; r = reader.next()) out.push(r);
  return out;
}
