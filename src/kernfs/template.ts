/**
 * Template tables: validated once, indexed once. The index (name → table position) is a hash map built the first
 * time a table is used and shared by every directory of that kind, so lookup never scans a large table; a WeakMap
 * lets the index go when the table does.
 */
import { FsError } from './errors.js';
import { MAX_TABLE } from './node.js';
import type { TemplateTable } from './ops.js';

const indexes = new WeakMap<TemplateTable<unknown>, Map<string, number>>();

/** The table's index, validating and building it on first use. Throws TypeError/RangeError for a bad table. */
export function tableIndex(table: TemplateTable<unknown>): Map<string, number> {
  let index = indexes.get(table);
  if (index) return index;
  if (!Array.isArray(table) || !Object.isFrozen(table)) throw new TypeError('a template table must be a frozen array');
  if (table.length > MAX_TABLE) throw new RangeError(`a template table holds at most ${MAX_TABLE} entries`);
  index = new Map();
  for (let i = 0; i < table.length; i++) {
    const entry = table[i];
    if (typeof entry?.callback !== 'function') throw new TypeError(`template entry ${i} has no callback`);
    checkName(entry.name);
    if (index.has(entry.name)) throw new TypeError(`template entry "${entry.name}" appears twice`);
    index.set(entry.name, i);
  }
  indexes.set(table, index);
  return index;
}

const encoder = new TextEncoder();

/** A valid directory-entry name, or FsError (EINVAL / ENAMETOOLONG). */
export function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '' || name === '.' || name === '..' || /[/\0]/.test(name)) {
    throw new FsError('EINVAL', `invalid name ${JSON.stringify(name)}`);
  }
  if (name.length > 85 && encoder.encode(name).length > 255) throw new FsError('ENAMETOOLONG');
}
