import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  cStringLiteral,
  defaultPrintFormat,
  parsePrintFormat,
  printFmtLine,
  rendererFor,
  validatePrintFormat,
} from '../../../src/trace/text/print-format.js';
import { encodeRecord, makeEvent, SCALAR_FIELDS } from './support.js';

const f = (o: Record<string, string>) => Object.entries(o).map(([name, type]) => ({ name, type }));

test('parse: literal text, %% and conversions', () => {
  const parts = parsePrintFormat('a=%u 100%% b=%-08llx');
  assert.equal(parts.length, 4);
  assert.equal(parts[0], 'a=');
  assert.equal(parts[2], ' 100% b=');
  assert.deepEqual(
    { ...(parts[3] as object) },
    {
      left: true,
      plus: false,
      space: false,
      alt: false,
      zero: true,
      width: 8,
      precision: -1,
      length: 'll',
      conv: 'x',
      text: '%-08llx',
    },
  );
});

test('parse: refuses what cannot print', () => {
  for (const bad of [
    '%',
    'x=%',
    '%*d',
    '%.*s',
    '%f',
    '%n',
    '%q',
    '%lc',
    '%hs',
    '%pS',
    '%ps',
    '%10000d',
    '%.5000s',
    '%ll',
  ]) {
    assert.throws(() => parsePrintFormat(bad), TypeError, bad);
  }
  assert.throws(() => parsePrintFormat('x'.repeat(5000)), TypeError);
  // Text libtraceevent cannot read back: non-ASCII and control characters other than newline and tab.
  for (const bad of ['größe=%u', '✓ %u', 'a\rb', 'a\x01b', 'a\x7fb'])
    assert.throws(() => parsePrintFormat(bad), /printable ASCII/);
  assert.equal(parsePrintFormat('a\tb\nc')[0], 'a\tb\nc');
  // %p followed by punctuation is a plain pointer.
  assert.equal(parsePrintFormat('%p,').length, 2);
});

test('validatePrintFormat: one fitting conversion per field, in order', () => {
  const fields = f({ method: 'string', url: 'string', status: 'u16', bytes: 'u32' });
  validatePrintFormat('method=%s url=%s status=%u bytes=%u', fields);
  validatePrintFormat('%s %-20s %03d %#x', fields);
  assert.throws(() => validatePrintFormat('method=%s url=%s status=%u', fields), /3 conversions for 4 fields/);
  assert.throws(() => validatePrintFormat('%s %s %u %u %u', fields), /5 conversions for 4 fields/);
  assert.throws(() => validatePrintFormat('%s %d %u %u', fields), /%d cannot print field url of type string/);
  assert.throws(() => validatePrintFormat('%s %s %s %u', fields), /%s cannot print field status/);
  validatePrintFormat('%s %s', f({ c: 'char[8]', a: 'u8[4]' }));
  assert.throws(() => validatePrintFormat('%x', f({ a: 'u8[4]' })), /use %s/);
  validatePrintFormat('%d %c %p', f({ b: 'bool', c: 'u8', p: 'u64' }));
  validatePrintFormat('no fields', []);
  assert.throws(() => validatePrintFormat('%d', f({ x: 'float' })), /unknown type/);
});

test('defaultPrintFormat: name=value with the conversion of each type', () => {
  const fields = f({
    ...SCALAR_FIELDS,
    l: 'char[16]',
    m: 'u8[4]',
  });
  assert.equal(defaultPrintFormat(fields), 'a=%u b=%u c=%u d=%llu e=%d g=%d h=%d i=%lld j=%d k=%s l=%s m=%s');
  validatePrintFormat(defaultPrintFormat(fields), fields);
});

test('print fmt line: escaped format, REC->, __get_str, __print_array', () => {
  const e = makeEvent(1, 's', 'e', { n: 'u32', s: 'string', c: 'char[4]', a: 'u16[3]' }, 'q="%u"\t%s\\%s\n%s');
  assert.equal(
    printFmtLine(e),
    'print fmt: "q=\\"%u\\"\\t%s\\\\%s\\n%s", REC->n, __get_str(s), REC->c, __print_array(REC->a, 3, 2)',
  );
  assert.equal(printFmtLine(makeEvent(2, 's', 'none', {})), 'print fmt: ""');
  assert.equal(
    printFmtLine(makeEvent(3, 's', 'ptr', { ip: 'u64', p: 'u64', n: 'u32' }, '%ps %p %u%%')),
    'print fmt: "%ps %p %u%%", (void *)REC->ip, (void *)REC->p, REC->n',
  );
  // Control characters never reach a format file (refused at definition) but would be escaped if they did.
  assert.equal(cStringLiteral('\x01\x7f'), '"\\001\\177"');
});

test('render: every field type through the default print format', () => {
  const e = makeEvent(7, 'sys', 'all', {
    ...SCALAR_FIELDS,
    l: 'char[6]',
    m: 'u8[3]',
    n: 's64[2]',
    o: 'string',
  });
  const data = encodeRecord(e, {
    a: 255,
    b: 65535,
    c: 4294967295,
    d: 18446744073709551615n,
    e: -128,
    g: -32768,
    h: -2147483648,
    i: -9223372036854775808n,
    j: true,
    k: 'héllo',
    l: 'abcdef',
    m: [1, 0x20, 255],
    n: [-1n, 16n],
    o: '',
  });
  assert.equal(
    rendererFor(e)(data),
    'a=255 b=65535 c=4294967295 d=18446744073709551615 e=-128 g=-32768 h=-2147483648 i=-9223372036854775808 ' +
      'j=1 k=héllo l=abcdef m={0x1,0x20,0xff} n={0xffffffffffffffff,0x10} o=',
  );
});

test('render: a user print string with widths, char arrays stopping at NUL', () => {
  const e = makeEvent(
    8,
    'http',
    'request',
    { method: 'string', url: 'string', status: 'u16', bytes: 'u32', tag: 'char[8]' },
    '%-6s|%10s|%05u|%#x|%s|',
  );
  const data = encodeRecord(e, { method: 'GET', url: '/x', status: 200, bytes: 512, tag: 'ab' });
  assert.equal(rendererFor(e)(data), 'GET   |        /x|00200|0x200|ab|');
  // Cached: the same function for the same descriptor.
  assert.equal(rendererFor(e), rendererFor(e));
});

test('render: never throws on short or corrupt records', () => {
  const e = makeEvent(9, 's', 'e', { a: 'u64', s: 'string', c: 'char[4]', arr: 'u32[2]' });
  assert.equal(rendererFor(e)(new Uint8Array(4)), 'a=0 s= c= arr={0x0,0x0}');
  const data = encodeRecord(e, { a: 1, s: 'xyz', c: 'ab', arr: [1, 2] });
  // A __data_loc pointing past the end.
  const bad = data.slice();
  new DataView(bad.buffer).setUint32(e.layout.fields[1].offset, (50 << 16) | 1000, true);
  assert.equal(rendererFor(e)(bad), 'a=1 s= c=ab arr={0x1,0x2}');
  // A descriptor whose print string was never validated renders a marker instead of throwing.
  const broken = { ...makeEvent(10, 's', 'b', { a: 'u32' }), print: '%f' };
  assert.match(rendererFor(broken)(data), /^<bad print format/);
});
