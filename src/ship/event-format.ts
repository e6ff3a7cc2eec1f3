/**
 * An event's `format` file read back into the engine's own description (`EventDescriptor`): the declarations give
 * ntrace's field types back (`u32 bytes`, `__data_loc char[] url`, `char comm[16]`, `u16 v[4]`, `bool ok`), and
 * `computeLayout` — the same function the writer used — gives the offsets, which are checked against the file's.
 */
import { computeLayout, type FieldSpec, type FieldType, parseFieldType } from '../trace/layout.js';
import type { EventDescriptor } from '../trace/record.js';

function typeOf(decl: string): { name: string; type: FieldType } | undefined {
  let m = /^__data_loc char\[\] (\w+)$/.exec(decl);
  if (m) return { name: m[1], type: 'string' };
  m = /^(char|[us](?:8|16|32|64)) (\w+)\[(\d+)\]$/.exec(decl);
  if (m) return { name: m[2], type: `${m[1]}[${Number(m[3])}]` as FieldType };
  m = /^([us](?:8|16|32|64)|bool) (\w+)$/.exec(decl);
  if (m) return { name: m[2], type: m[1] as FieldType };
  return undefined;
}

/** Parses a `format` file of `system`; throws an Error naming the line it cannot read. */
export function parseFormatFile(system: string, text: string): EventDescriptor {
  const name = /^name: (\S+)$/m.exec(text)?.[1];
  const id = /^ID: (\d+)$/m.exec(text)?.[1];
  if (name === undefined || id === undefined) throw new Error(`${system}: not a format file`);
  const fields: FieldSpec[] = [];
  const offsets: number[] = [];
  for (const m of text.matchAll(/^\tfield:([^;]+);\toffset:(\d+);\tsize:(\d+);/gm)) {
    if (m[1].includes('common_')) continue;
    const t = typeOf(m[1]);
    if (!t || !parseFieldType(t.type)) throw new Error(`${system}:${name}: unknown field declaration '${m[1]}'`);
    fields.push(t);
    offsets.push(Number(m[2]));
  }
  const layout = computeLayout(fields);
  layout.fields.forEach((f, i) => {
    if (f.offset !== offsets[i])
      throw new Error(`${system}:${name}: field ${f.name} at ${offsets[i]}, expected ${f.offset}`);
  });
  return { id: Number(id), system, name, fields, layout };
}
