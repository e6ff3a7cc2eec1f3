/**
 * The print-string writer writes bytes straight into a trace line. Every expected text below is what the string
 * renderer it replaced printed for the same record (captured before the change), so output stays byte-identical.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineWriter } from '../../../src/trace/text/line-writer.js';
import { printWriterFor, rendererFor } from '../../../src/trace/text/print-format.js';
import type { Value } from './support.js';
import { encodeRecord, makeEvent } from './support.js';

/** Renders one record both ways: the writer's bytes, and the text callers' string of them. */
function render(print: string, fields: Record<string, string>, values: Record<string, Value>): string {
  const e = makeEvent(3, 's', 'e', fields, print);
  const data = encodeRecord(e, values);
  const w = new LineWriter(8); // small: the writer must grow mid-conversion
  w.text('>');
  printWriterFor(e)(w, data);
  const text = rendererFor(e)(data);
  assert.deepEqual(Buffer.from(w.buf.subarray(1, w.pos)), Buffer.from(text, 'utf8'), print);
  return text;
}

test('unsigned integers: width, left, zero pad, the full u32 range', () => {
  assert.equal(
    render('%5u|%-5u|%05u|%u', { a: 'u32', b: 'u32', c: 'u32', d: 'u32' }, { a: 42, b: 42, c: 42, d: 4294967295 }),
    '   42|42   |00042|4294967295',
  );
});

test('negative numbers: %d %i with width, zero pad, plus and precision', () => {
  assert.equal(
    render(
      '%d %i %5d %-5d| %05d %+d %.3d',
      { a: 's32', b: 's8', c: 's16', d: 's32', e: 's32', f: 's32', g: 's32' },
      { a: -2147483648, b: -128, c: -7, d: -7, e: -7, f: 7, g: -7 },
    ),
    '-2147483648 -128    -7 -7   | -0007 +7 -007',
  );
});

test('%x %X %o with the # flag, widths and zero', () => {
  assert.equal(
    render(
      '%x %X %#x %#010x %-#8x| %o %#o',
      { a: 'u32', b: 'u32', c: 'u32', d: 'u32', e: 'u16', f: 'u8', g: 'u8' },
      { a: 3735928559, b: 3735928559, c: 0, d: 255, e: 255, f: 8, g: 0 },
    ),
    'deadbeef DEADBEEF 0x0 0x000000ff 0xff    | 10 0',
  );
});

test('64-bit fields: %lu %ld %llu %lld beyond 2^53, and %llx of a negative', () => {
  assert.equal(
    render(
      '%lu %ld %llu %lld %llx',
      { a: 'u64', b: 's64', c: 'u64', d: 's64', e: 's64' },
      { a: 18446744073709551615n, b: -9223372036854775808n, c: 9007199254740993n, d: -1n, e: -1n },
    ),
    '18446744073709551615 -9223372036854775808 9007199254740993 -1 ffffffffffffffff',
  );
  // Either side of 2^53, where the writer changes from doubles to BigInt.
  assert.equal(
    render(
      '%llu %lld %lld',
      { a: 'u64', b: 's64', c: 's64' },
      { a: 9007199254740991n, b: -9007199254740991n, c: -9007199254740992n },
    ),
    '9007199254740991 -9007199254740991 -9007199254740992',
  );
});

test('the argument is cast as C would for the conversion: %u of -1, %hu, %hhd, %lu of a negative s32', () => {
  assert.equal(
    render(
      '%u %d %hu %hhd %lu',
      { a: 's32', b: 'u32', c: 'u32', d: 'u16', e: 's32' },
      { a: -1, b: 4294967295, c: 74565, d: 255, e: -2 },
    ),
    '4294967295 -1 9029 -1 18446744073709551614',
  );
});

test('%p and %c (a byte above 0x7f prints as that Latin-1 character in UTF-8)', () => {
  assert.equal(
    render(
      '%p %6p %c%3c%-3c|',
      { a: 'u64', b: 'u32', c: 'u8', d: 's8', e: 'u8' },
      { a: 0xabcn, b: 0xabc, c: 65, d: -23, e: 66 },
    ),
    '0000000000000abc    abc A  éB  |',
  );
});

test('%s with non-ASCII: width and precision count bytes; a cut character becomes U+FFFD', () => {
  assert.equal(
    render(
      '%s|%10s|%-10s|%.2s|%5.1s|%.0s|',
      { a: 'string', b: 'string', c: 'string', d: 'string', e: 'string', f: 'string' },
      { a: 'héllo', b: 'héllo', c: 'ü', d: 'aé', e: 'éa', f: 'x' },
    ),
    'héllo|    héllo|ü        |a\ufffd|  \ufffd||',
  );
  assert.equal(
    render(
      '%.3s|%.4s|%6.2s|%-4s|',
      { a: 'string', b: 'char[8]', c: 'string', d: 'string' },
      { a: '✓✓', b: '✓✓', c: '€', d: 'ab' },
    ),
    '✓|✓\ufffd|   \ufffd|ab  |',
  );
  // A 4-byte character counts 4 bytes (the string renderer counted 5, one pad space short of the kernel).
  assert.equal(render('%8s|', { a: 'string' }, { a: '😀x' }), '   😀x|');
});

test('%s of arrays, with width and truncation', () => {
  assert.equal(
    render('%s %8s %.3s', { a: 'u16[3]', b: 'u8[2]', c: 's64[2]' }, { a: [1, 0xffff, 0], b: [1, 2], c: [-1n, 16n] }),
    '{0x1,0xffff,0x0} {0x1,0x2} {0x',
  );
});

test('invalid UTF-8 in a string field, and a record cut short', () => {
  const e = makeEvent(4, 's', 'f', { s: 'string', n: 'u64', t: 'string' }, '%-6s|%llu|%3.2s|');
  const data = encodeRecord(e, { s: 'abcd', n: 12345678901234n, t: 'xyz' });
  const at = new DataView(data.buffer, data.byteOffset).getUint32(e.layout.fields[0].offset, true) & 0xffff;
  const bad = data.slice();
  bad[at + 1] = 0xff;
  bad[at + 2] = 0xc3;
  assert.equal(rendererFor(e)(bad), 'a\ufffd\ufffdd|12345678901234| xy|');
  assert.equal(rendererFor(e)(data.subarray(0, 10)), '      |0|   |');
});
