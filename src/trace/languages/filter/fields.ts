/**
 * The fields a filter (or histogram) can name on an event: the event's own fields first, then the kernel's generic
 * pseudo fields (CPU, cpu, common_cpu, COMM, comm), then the common header fields — the kernel's lookup order, so an
 * event field called `comm` hides the pseudo field.
 */
import type { FieldLayout } from '../../layout.js';
import type { EventDescriptor } from '../../record.js';

export type FilterFieldSource = 'event' | 'common' | 'cpu' | 'comm';

export interface FilterField {
  readonly name: string;
  readonly source: FilterFieldSource;
  /** Present for event and common fields. */
  readonly layout?: FieldLayout;
  /** 'dyn' = __data_loc string, 'static' = char[N], 'comm' = the COMM pseudo field; undefined = numeric. */
  readonly stringKind?: 'dyn' | 'static' | 'comm';
  /** Size in bytes as the kernel sees it (the whole array for arrays). */
  readonly size: number;
  readonly signed: boolean;
}

/** TASK_COMM_LEN: COMM compares like a char[16] holding the thread name cut to 15 bytes. */
export const COMM_LEN = 16;

const GENERIC: Record<string, FilterField> = {
  CPU: { name: 'CPU', source: 'cpu', size: 4, signed: true },
  cpu: { name: 'cpu', source: 'cpu', size: 4, signed: true },
  common_cpu: { name: 'common_cpu', source: 'cpu', size: 4, signed: true },
  COMM: { name: 'COMM', source: 'comm', stringKind: 'comm', size: COMM_LEN, signed: false },
  comm: { name: 'comm', source: 'comm', stringKind: 'comm', size: COMM_LEN, signed: false },
};

function fromLayout(f: FieldLayout, source: 'event' | 'common'): FilterField {
  // filter_assign_type(): a declaration with "char" and "[" is a fixed string (so `unsigned char x[6]` would be one,
  // but ntrace declares byte arrays as `u8 x[6]`, which compare as numbers like any other array).
  let stringKind: FilterField['stringKind'];
  if (f.kind === 'string') stringKind = 'dyn';
  else if (f.kind === 'chars') stringKind = 'static';
  return { name: f.name, source, layout: f, stringKind, size: f.size, signed: f.signed };
}

/** Field lookup for one event; cached per descriptor because filters are compiled often (system filters, triggers). */
export class FieldTable {
  private readonly map = new Map<string, FilterField>();
  constructor(readonly event: EventDescriptor) {
    for (const f of event.layout.common) this.map.set(f.name, fromLayout(f, 'common'));
    for (const [k, v] of Object.entries(GENERIC)) this.map.set(k, v);
    for (const f of event.layout.fields) this.map.set(f.name, fromLayout(f, 'event'));
  }
  find(name: string): FilterField | undefined {
    return this.map.get(name);
  }
}

const tables = new WeakMap<EventDescriptor, FieldTable>();

export function fieldTable(event: EventDescriptor): FieldTable {
  let t = tables.get(event);
  if (!t) {
    t = new FieldTable(event);
    tables.set(event, t);
  }
  return t;
}
