/**
 * One batch as a block of ClickHouse's Native format: column by column, each named and typed, so the server checks
 * every column's type against its table (a mismatch is its refusal, never rows read askew) and stores the columns
 * without parsing rows — the cheapest insert for the server, which shares the machine with the application.
 *
 * Rows are appended column by column into growing buffers; columns whose value is the same in every row of the
 * batch (host, service, the batch id and size) and arrays' offsets are written once, when the block is encoded.
 */
import { ColumnBuffer } from './column-data.js';
import type { Column } from './schema.js';

export interface BlockColumn extends Column {
  /** Same value in every row: its encoded bytes, given at encode time under this key. */
  readonly constant?: string;
  /** For a fixed-length array column: elements per row. */
  readonly arrayLength?: number;
}

function varUInt(v: number): Buffer {
  const b = new ColumnBuffer(8);
  b.varUInt(v);
  return b.buf.subarray(0, b.pos);
}

/** A String value's encoding (length + bytes). */
export function encodedString(s: string): Buffer {
  const b = new ColumnBuffer(Buffer.byteLength(s) + 8);
  b.string(s);
  return b.buf.subarray(0, b.pos);
}

export class NativeBlock {
  readonly columns: readonly BlockColumn[];
  /** Column data, by column index (empty for constant columns). */
  readonly data: readonly ColumnBuffer[];
  rows = 0;

  /** `sizes`: starting bytes per column (what the table's last block used), else 16 KiB each. */
  constructor(columns: readonly BlockColumn[], sizes?: readonly number[]) {
    this.columns = columns;
    this.data = columns.map((c, i) => new ColumnBuffer(c.constant ? 0 : Math.max(sizes?.[i] ?? 0, 16 * 1024)));
  }

  /** Bytes used per column. */
  sizes(): number[] {
    return this.data.map((d) => d.pos);
  }

  /** Bytes of column data so far (what the batch's byte bound counts). */
  get bytes(): number {
    let n = 0;
    for (const d of this.data) n += d.pos;
    return n;
  }

  /** The insert body; `constants` gives the encoded value of each constant column. */
  encode(constants: ReadonlyMap<string, Buffer>): Buffer {
    const parts: Buffer[] = [varUInt(this.columns.length), varUInt(this.rows)];
    this.columns.forEach((c, i) => {
      parts.push(encodedString(c.name), encodedString(c.type));
      if (c.constant !== undefined) {
        const v = constants.get(c.constant);
        if (!v) throw new Error(`no value for constant column ${c.name}`);
        parts.push(Buffer.alloc(v.length * this.rows).fill(v));
        return;
      }
      if (c.arrayLength !== undefined) {
        const offsets = new ColumnBuffer(8 * this.rows + 8);
        for (let r = 1; r <= this.rows; r++) offsets.u64(r * c.arrayLength);
        parts.push(offsets.buf.subarray(0, offsets.pos));
      }
      const d = this.data[i];
      parts.push(d.buf.subarray(0, d.pos));
    });
    return Buffer.concat(parts);
  }
}
