/**
 * Records to TabSeparated rows, straight from page bytes. Strings are ClickHouse byte strings, so their bytes are
 * carried as latin1 code units (one unit per byte) and turned back into the same bytes when the batch is encoded —
 * no UTF-8 decoding on the way, and invalid UTF-8 arrives as it was written.
 */
import type { FieldLayout } from '../trace/layout.js';
import type { EventDescriptor } from '../trace/record.js';

const TWO32 = 4294967296;
const NEEDS_ESCAPE = /[\\\t\n]/;

/** A string for a TabSeparated field. */
export function tsvEscape(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/[\\\t\n]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : '\\n'));
}

function bytesText(page: Uint8Array, from: number, to: number): string {
  let end = from;
  while (end < to && page[end] !== 0) end++;
  return tsvEscape(Buffer.from(page.buffer, page.byteOffset + from, end - from).toString('latin1'));
}

function intText(dv: DataView, at: number, size: number, signed: boolean): string {
  switch (size) {
    case 1:
      return String(signed ? dv.getInt8(at) : dv.getUint8(at));
    case 2:
      return String(signed ? dv.getInt16(at, true) : dv.getUint16(at, true));
    case 4:
      return String(signed ? dv.getInt32(at, true) : dv.getUint32(at, true));
    default: {
      const lo = dv.getUint32(at, true);
      const hi = dv.getUint32(at + 4, true);
      if (hi < 0x200000) return String(hi * TWO32 + lo);
      return String(signed ? dv.getBigInt64(at, true) : dv.getBigUint64(at, true));
    }
  }
}

function fieldText(f: FieldLayout, page: Uint8Array, dv: DataView, rec: number, len: number): string {
  const at = rec + f.offset;
  switch (f.kind) {
    case 'int':
      return intText(dv, at, f.elemSize, f.signed);
    case 'bool':
      return page[at] ? '1' : '0';
    case 'string': {
      const loc = dv.getUint32(at, true);
      const from = rec + (loc & 0xffff);
      const to = Math.min(from + (loc >>> 16), rec + len);
      return bytesText(page, from, to);
    }
    case 'chars':
      return bytesText(page, at, at + f.count);
    case 'array': {
      let s = '[';
      for (let i = 0; i < f.count; i++) {
        if (i) s += ',';
        s += intText(dv, at + i * f.elemSize, f.elemSize, f.signed);
      }
      return `${s}]`;
    }
  }
}

/** The event's own fields of the record at `page[rec..rec+len)`, each preceded by a tab. */
export function fieldsText(event: EventDescriptor, page: Uint8Array, dv: DataView, rec: number, len: number): string {
  let s = '';
  for (const f of event.layout.fields) s += `\t${fieldText(f, page, dv, rec, len)}`;
  return s;
}
