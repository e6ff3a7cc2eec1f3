/**
 * An event's `format` file (the kernel's text, as stored in trace.dat) parsed into field layouts, and a record's
 * payload decoded with them into plain values.
 */

export interface FormatField {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly signed: boolean;
  /** `int` (1, 2, 4, 8 bytes), `string` (__data_loc char[]), `chars` (char[N]), `array` (integers[N]). */
  readonly kind: 'int' | 'string' | 'chars' | 'array';
  /** Element size of an array. */
  readonly elemSize: number;
}

export interface EventFormat {
  readonly id: number;
  readonly system: string;
  readonly name: string;
  /** The event's own fields (the `common_*` ones are read by position). */
  readonly fields: readonly FormatField[];
}

export type FieldValue = number | string | number[];

const FIELD_RE = /^\s*field:(.*?);\s*offset:([0-9]+);\s*size:([0-9]+);\s*signed:([01]);/;

/** Parses one format file's text; `system` is the directory it came from. */
export function parseFormat(system: string, text: string): EventFormat | undefined {
  const name = /^name: (.+)$/m.exec(text)?.[1]?.trim();
  const id = Number(/^ID: ([0-9]+)$/m.exec(text)?.[1]);
  if (!name || !Number.isInteger(id)) return undefined;
  const fields: FormatField[] = [];
  for (const line of text.split('\n')) {
    const m = FIELD_RE.exec(line);
    if (!m) continue;
    const decl = m[1].trim();
    const offset = Number(m[2]);
    const size = Number(m[3]);
    const signed = m[4] === '1';
    const arr = /^(.*?)\s*([A-Za-z_][A-Za-z0-9_]*)\s*\[([0-9]*)\]$/.exec(decl);
    let fname: string;
    let kind: FormatField['kind'] = 'int';
    let elemSize = size;
    if (decl.startsWith('__data_loc') || decl.startsWith('__rel_loc')) {
      fname = /([A-Za-z_][A-Za-z0-9_]*)$/.exec(decl)?.[1] ?? decl;
      kind = 'string';
    } else if (arr) {
      fname = arr[2];
      const count = Number(arr[3] || 0);
      if (/\bchar$/.test(arr[1])) kind = 'chars';
      else {
        kind = 'array';
        elemSize = count > 0 ? size / count : size;
      }
    } else fname = /([A-Za-z_][A-Za-z0-9_]*)$/.exec(decl)?.[1] ?? decl;
    if (fname.startsWith('common_')) continue;
    fields.push({ name: fname, offset, size, signed, kind, elemSize });
  }
  return { id, system, name, fields };
}

function readInt(dv: DataView, at: number, size: number, signed: boolean): number {
  switch (size) {
    case 1:
      return signed ? dv.getInt8(at) : dv.getUint8(at);
    case 2:
      return signed ? dv.getInt16(at, true) : dv.getUint16(at, true);
    case 4:
      return signed ? dv.getInt32(at, true) : dv.getUint32(at, true);
    case 8:
      return Number(signed ? dv.getBigInt64(at, true) : dv.getBigUint64(at, true));
    default:
      return 0;
  }
}

const utf8 = new TextDecoder('utf-8');

function cString(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return utf8.decode(nul < 0 ? bytes : bytes.subarray(0, nul));
}

/** The record's `common_pid` (every record starts with the common fields). */
export function recordPid(data: Uint8Array): number {
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getInt32(4, true);
}

export function recordType(data: Uint8Array): number {
  return data[0] | (data[1] << 8);
}

/** Decodes the event's fields; a field outside the record (a short record) is left out. */
export function decodeFields(format: EventFormat, data: Uint8Array): Record<string, FieldValue> {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: Record<string, FieldValue> = {};
  for (const f of format.fields) {
    if (f.offset + f.size > data.length) continue;
    switch (f.kind) {
      case 'int':
        out[f.name] = readInt(dv, f.offset, f.size, f.signed);
        break;
      case 'string': {
        const loc = dv.getUint32(f.offset, true);
        const at = loc & 0xffff;
        const len = loc >>> 16;
        out[f.name] = at + len <= data.length ? cString(data.subarray(at, at + len)) : '';
        break;
      }
      case 'chars':
        out[f.name] = cString(data.subarray(f.offset, f.offset + f.size));
        break;
      case 'array': {
        const values: number[] = [];
        for (let at = f.offset; at + f.elemSize <= f.offset + f.size; at += f.elemSize)
          values.push(readInt(dv, at, f.elemSize, f.signed));
        out[f.name] = values;
        break;
      }
    }
  }
  return out;
}
