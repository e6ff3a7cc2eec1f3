/**
 * `events/header_page` and `events/header_event`: how the ring buffer's sub-buffers and event headers are laid out.
 * The engine uses the kernel's layout, so the text is the kernel's (x86-64: 8-byte timestamp and commit words).
 */

/** Bytes of a sub-buffer header: u64 timestamp + local_t commit. */
export const SUBBUF_HEADER_SIZE = 16;
/** Data bytes of a default 4 KiB sub-buffer. */
export const DEFAULT_SUBBUF_DATA_SIZE = 4096 - SUBBUF_HEADER_SIZE;

/** The `header_page` text for sub-buffers holding `dataSize` bytes of events. */
export function headerPageText(dataSize: number = DEFAULT_SUBBUF_DATA_SIZE): string {
  return (
    '\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n' +
    '\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n' +
    // The kernel keeps the "overwrite" flag in the commit word's high bits and describes it as this 1-byte field.
    '\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n' +
    `\tfield: char data;\toffset:${SUBBUF_HEADER_SIZE};\tsize:${dataSize};\tsigned:0;\n`
  );
}

/** Event header type_len values with a special meaning, and the largest one that encodes a data length. */
export const RINGBUF_TYPE_PADDING = 29;
export const RINGBUF_TYPE_TIME_EXTEND = 30;
export const RINGBUF_TYPE_TIME_STAMP = 31;
export const RINGBUF_TYPE_DATA_TYPE_LEN_MAX = 28;

/** The `header_event` text. */
export function headerEventText(): string {
  return (
    '# compressed entry header\n' +
    '\ttype_len    :    5 bits\n' +
    '\ttime_delta  :   27 bits\n' +
    '\tarray       :   32 bits\n' +
    '\n' +
    `\tpadding     : type == ${RINGBUF_TYPE_PADDING}\n` +
    `\ttime_extend : type == ${RINGBUF_TYPE_TIME_EXTEND}\n` +
    `\ttime_stamp : type == ${RINGBUF_TYPE_TIME_STAMP}\n` +
    `\tdata max type_len  == ${RINGBUF_TYPE_DATA_TYPE_LEN_MAX}\n`
  );
}
