/** The `events/<system>/<event>/format` file, laid out as the kernel's f_show() prints it. */
import type { FieldLayout } from '../layout.js';
import type { EventDescriptor } from '../record.js';
import { printFmtLine } from './print-format.js';

function fieldLine(f: FieldLayout): string {
  return `\tfield:${f.decl};\toffset:${f.offset};\tsize:${f.size};\tsigned:${f.signed ? 1 : 0};\n`;
}

/** The text of an event's `format` file. */
export function formatFileText(event: EventDescriptor): string {
  let s = `name: ${event.name}\nID: ${event.id}\nformat:\n`;
  for (const f of event.layout.common) s += fieldLine(f);
  s += '\n';
  for (const f of event.layout.fields) s += fieldLine(f);
  s += `\n${printFmtLine(event)}\n`;
  return s;
}
