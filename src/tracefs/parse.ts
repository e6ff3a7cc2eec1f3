/**
 * The kernel's parsing of small control writes (kstrtoul and friends), so `enable`, `tracing_on`, `buffer_size_kb`
 * accept and refuse exactly what the kernel's do; and the open that clears a control file (`echo > FILE`).
 */
import { FsError, O_ACCMODE, O_RDONLY, O_TRUNC, type OpenedFile } from '../kernfs/index.js';

const decoder = new TextDecoder();

/** The written bytes as text, cut at a NUL as a C string would be. */
export function writtenText(data: Uint8Array): string {
  const text = decoder.decode(data);
  const nul = text.indexOf('\0');
  return nul >= 0 ? text.slice(0, nul) : text;
}

/**
 * kstrtoul_from_user(buf, count, 10): digits only (a leading '+' is allowed), one trailing newline, nothing else;
 * EINVAL otherwise (leading spaces, signs, hex, empty input); ERANGE above 2^64-1.
 */
export function parseUnsigned(data: Uint8Array): bigint {
  let text = writtenText(data);
  if (text.endsWith('\n')) text = text.slice(0, -1);
  if (text.startsWith('+')) text = text.slice(1);
  if (!/^[0-9]+$/.test(text)) throw new FsError('EINVAL');
  const v = BigInt(text);
  if (v > 0xffff_ffff_ffff_ffffn) throw new FsError('ERANGE');
  return v;
}

/** A `0`/`1` switch (event `enable`, `options/*`): any other number is EINVAL. */
export function parseBoolean(data: Uint8Array): boolean {
  const v = parseUnsigned(data);
  if (v > 1n) throw new FsError('EINVAL');
  return v === 1n;
}

/** The first word of a write with surrounding whitespace removed (trace_clock, current_tracer, trace_options). */
export function strippedWord(data: Uint8Array): string {
  return writtenText(data).trim();
}

/** An open for writing with O_TRUNC: the kernel clears the file's contents (trace, error_log, set_event, trigger). */
export function isWriteTrunc(file: OpenedFile): boolean {
  return (file.flags & O_TRUNC) !== 0 && (file.flags & O_ACCMODE) !== O_RDONLY;
}
