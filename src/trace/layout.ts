/**
 * Field types and the binary layout of an event record — the contract between the writer (ring buffer encoder),
 * the readers (text output, filters, histograms) and the `format` file. The layout is the one a C compiler gives the
 * kernel's `struct trace_event_raw_<event>`: the four common fields, then the event's fields in declaration order,
 * each at its natural alignment, then (for strings) dynamic data addressed by `__data_loc` words.
 */

export type IntType = 'u8' | 'u16' | 'u32' | 'u64' | 's8' | 's16' | 's32' | 's64';
/** The field vocabulary of ntrace (and of test/fixtures/kernel-events.json). */
export type FieldType = IntType | 'bool' | 'string' | `char[${number}]` | `${IntType}[${number}]`;

export interface FieldSpec {
  readonly name: string;
  readonly type: FieldType;
}

/**
 * - `int`: one integer (`u8`…`s64`); 64-bit ones read as bigint.
 * - `bool`: one byte, 0 or 1.
 * - `string`: a `__data_loc char[]` word: low 16 bits = offset of the bytes from the record start, high 16 bits =
 *   length including the terminating NUL.
 * - `chars`: `char[N]`, NUL-padded, not necessarily NUL-terminated when full.
 * - `array`: `count` integers of `elemSize` bytes.
 */
export type FieldKind = 'int' | 'bool' | 'string' | 'chars' | 'array';

export interface FieldLayout {
  readonly name: string;
  readonly type: FieldType | 'common';
  readonly kind: FieldKind;
  /** Byte offset from the start of the record (common_type is at 0). */
  readonly offset: number;
  /** Bytes in the fixed part (4 for a string's __data_loc word). */
  readonly size: number;
  /** Size of one element: the integer's size, 1 for char/bool/string bytes. */
  readonly elemSize: number;
  /** Number of elements: 1 for scalars and strings, N for arrays. */
  readonly count: number;
  readonly signed: boolean;
  /** The declaration as the `format` file prints it, without the trailing `;`: `u32 bytes`, `char comm[16]`, `__data_loc char[] url`. */
  readonly decl: string;
}

export interface EventLayout {
  /** common_type, common_flags, common_preempt_count, common_pid. */
  readonly common: readonly FieldLayout[];
  /** The event's own fields, in declaration order. */
  readonly fields: readonly FieldLayout[];
  /** Size of the fixed part including tail padding: where dynamic (string) data starts. */
  readonly fixedSize: number;
  /** True when any field is a string (records are variable-sized). */
  readonly dynamic: boolean;
}

const INT_SIZES: Record<IntType, number> = { u8: 1, u16: 2, u32: 4, u64: 8, s8: 1, s16: 2, s32: 4, s64: 8 };
/** Largest fixed array or char[] we accept; the kernel's own events stay far below. */
export const MAX_ARRAY_LENGTH = 4096;

function isIntType(t: string): t is IntType {
  return Object.hasOwn(INT_SIZES, t);
}

/** Validates a field type string; returns undefined when it is not in ntrace's vocabulary. */
export function parseFieldType(
  type: string,
): { kind: FieldKind; elemSize: number; count: number; signed: boolean } | undefined {
  if (isIntType(type)) return { kind: 'int', elemSize: INT_SIZES[type], count: 1, signed: type[0] === 's' };
  if (type === 'bool') return { kind: 'bool', elemSize: 1, count: 1, signed: false };
  if (type === 'string') return { kind: 'string', elemSize: 1, count: 1, signed: false };
  const m = /^([a-z0-9]+)\[([1-9][0-9]*)\]$/.exec(type);
  if (!m) return undefined;
  const count = Number(m[2]);
  if (count > MAX_ARRAY_LENGTH) return undefined;
  if (m[1] === 'char') return { kind: 'chars', elemSize: 1, count, signed: false };
  if (isIntType(m[1])) return { kind: 'array', elemSize: INT_SIZES[m[1]], count, signed: m[1][0] === 's' };
  return undefined;
}

function alignUp(n: number, a: number): number {
  return (n + a - 1) & ~(a - 1);
}

const COMMON: readonly FieldLayout[] = Object.freeze([
  common('common_type', 0, 2, false, 'unsigned short common_type'),
  common('common_flags', 2, 1, false, 'unsigned char common_flags'),
  common('common_preempt_count', 3, 1, false, 'unsigned char common_preempt_count'),
  common('common_pid', 4, 4, true, 'int common_pid'),
]);

function common(name: string, offset: number, size: number, signed: boolean, decl: string): FieldLayout {
  return Object.freeze({ name, type: 'common', kind: 'int', offset, size, elemSize: size, count: 1, signed, decl });
}

/** Size of the common header every record starts with. */
export const COMMON_SIZE = 8;

/** Computes the record layout of an event; throws TypeError on an unknown type. Field names are not checked here. */
export function computeLayout(fields: readonly FieldSpec[]): EventLayout {
  let offset = COMMON_SIZE;
  let maxAlign = 4;
  let dynamic = false;
  const out: FieldLayout[] = [];
  for (const f of fields) {
    const t = parseFieldType(f.type);
    if (!t) throw new TypeError(`field ${f.name}: unknown type ${JSON.stringify(f.type)}`);
    const size = t.kind === 'string' ? 4 : t.elemSize * t.count;
    const align = t.kind === 'string' ? 4 : t.elemSize;
    offset = alignUp(offset, align);
    maxAlign = Math.max(maxAlign, align);
    let decl: string;
    if (t.kind === 'string') {
      decl = `__data_loc char[] ${f.name}`;
      dynamic = true;
    } else if (t.kind === 'chars') decl = `char ${f.name}[${t.count}]`;
    else if (t.kind === 'array') decl = `${f.type.slice(0, f.type.indexOf('['))} ${f.name}[${t.count}]`;
    else decl = `${f.type} ${f.name}`;
    out.push(
      Object.freeze({
        name: f.name,
        type: f.type,
        kind: t.kind,
        offset,
        size,
        elemSize: t.elemSize,
        count: t.count,
        signed: t.signed,
        decl,
      }),
    );
    offset += size;
  }
  return Object.freeze({ common: COMMON, fields: Object.freeze(out), fixedSize: alignUp(offset, maxAlign), dynamic });
}
