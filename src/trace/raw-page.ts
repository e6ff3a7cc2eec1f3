/**
 * The one reader of the engine's page format for readers outside the process (ship, record, export): walks one
 * trace_pipe_raw page in the kernel's sub-buffer format (`events/header_page`, `events/header_event`):
 * u64 timestamp, commit word (bytes of data; bit 31 = events were lost before this page, bit 30 = their count is
 * stored after the data), then events with 27-bit time deltas, time extends and absolute stamps.
 */
const TWO32 = 4294967296;
const DELTA_UNIT = 1 << 27;
const MISSED_EVENTS = 0x80000000;
const MISSED_STORED = 0x40000000;

export interface PageVisitor {
  /** One record: `ts` in ns of the instance clock, its bytes `page[at .. at+len)` from common_type. */
  record(ts: number, page: Uint8Array, at: number, len: number): void;
}

export interface PageSummary {
  readonly records: number;
  /** Records lost before this page: -1 when lost but the count did not fit (the kernel's "[LOST EVENTS]"). */
  readonly missed: number;
  readonly firstTs: number;
  readonly lastTs: number;
}

export function walkPage(page: Uint8Array, visit: PageVisitor): PageSummary {
  const dv = new DataView(page.buffer, page.byteOffset, page.byteLength);
  let ts = dv.getUint32(0, true) + dv.getUint32(4, true) * TWO32;
  const firstTs = ts;
  const commit = dv.getUint32(8, true);
  const size = Math.min(commit & 0x3fffffff, page.byteLength - 16);
  const end = 16 + size;
  let missed = 0;
  if (commit & MISSED_EVENTS) {
    missed =
      commit & MISSED_STORED && end + 8 <= page.byteLength
        ? dv.getUint32(end, true) + dv.getUint32(end + 4, true) * TWO32
        : -1;
  }
  let off = 16;
  let records = 0;
  while (off + 4 <= end) {
    const word = dv.getUint32(off, true);
    const type = word & 31;
    const delta = word >>> 5;
    if (type === 0) {
      const len = dv.getUint32(off + 4, true) - 4;
      ts += delta;
      if (len <= 0 || off + 8 + len > end) break;
      visit.record(ts, page, off + 8, len);
      records++;
      off += 8 + len;
    } else if (type <= 28) {
      const len = type * 4;
      ts += delta;
      if (off + 4 + len > end) break;
      visit.record(ts, page, off + 4, len);
      records++;
      off += 4 + len;
    } else if (off + 8 > end) {
      break; // a padding or time record cut by the end of the data
    } else if (type === 29) {
      if (delta === 0) break; // the rest of the page is padding
      off += 4 + dv.getUint32(off + 4, true);
    } else if (type === 30) {
      ts += delta + dv.getUint32(off + 4, true) * DELTA_UNIT;
      off += 8;
    } else {
      ts = delta + dv.getUint32(off + 4, true) * DELTA_UNIT;
      off += 8;
    }
  }
  return { records, missed, firstTs, lastTs: ts };
}
