/**
 * Just enough of the kernel's ring page format (events/header_page, events/header_event) to count what a page holds:
 * the records in it and the events the writer reported missing before it.
 */
const TYPE_PADDING = 29;
const TYPE_TIME_EXTEND = 30;
const TYPE_TIME_STAMP = 31;
/** Bits of the commit word that are flags, not the data length. */
const MISSED_EVENTS = 1 << 31;
const MISSED_STORED = 1 << 30;
const PAGE_HEADER = 16;

export interface PageCount {
  readonly records: number;
  /** Events lost just before this page; -1 when the writer flagged a loss without a count. */
  readonly missed: number;
}

export function countPage(page: Uint8Array): PageCount {
  const dv = new DataView(page.buffer, page.byteOffset, page.byteLength);
  const commitWord = dv.getUint32(8, true);
  const length = commitWord & ~(MISSED_EVENTS | MISSED_STORED);
  const end = Math.min(PAGE_HEADER + length, page.byteLength);
  let records = 0;
  let off = PAGE_HEADER;
  while (off + 4 <= end) {
    const word = dv.getUint32(off, true);
    const typeLen = word & 31;
    if (typeLen === TYPE_PADDING) {
      // A padding record: its length word follows (0 when it fills the page's end).
      const len = off + 8 <= end ? dv.getUint32(off + 4, true) : 0;
      if (len === 0) break;
      off += 4 + len;
    } else if (typeLen === TYPE_TIME_EXTEND || typeLen === TYPE_TIME_STAMP) {
      off += 8;
    } else if (typeLen === 0) {
      if (off + 8 > end) break;
      off += 4 + dv.getUint32(off + 4, true);
      records++;
    } else {
      off += 4 + typeLen * 4;
      records++;
    }
  }
  let missed = 0;
  if (commitWord & MISSED_EVENTS) {
    missed = -1;
    if (commitWord & MISSED_STORED && end + 8 <= page.byteLength) missed = Number(dv.getBigUint64(end, true));
  }
  return { records, missed };
}
