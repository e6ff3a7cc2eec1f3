/** What a page holds, for the recorder's progress and loss report: its records and the events missing before it. */
import { walkPage } from '../trace/raw-page.js';

export interface PageCount {
  readonly records: number;
  /** Events lost just before this page; -1 when the writer flagged a loss without a count. */
  readonly missed: number;
}

const NOTHING = { record() {} };

export function countPage(page: Uint8Array): PageCount {
  const { records, missed } = walkPage(page, NOTHING);
  return { records, missed };
}
