import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineWriter } from '../../../src/trace/text/line-writer.js';
import { parsePrintFormat } from '../../../src/trace/text/print-format.js';
import { type ConversionSpec, finishString, writeChar, writeInteger } from '../../../src/trace/text/printf.js';

function spec(text: string): ConversionSpec {
  const parts = parsePrintFormat(text);
  assert.equal(parts.length, 1);
  assert.equal(typeof parts[0], 'object');
  return parts[0] as ConversionSpec;
}

/** What the byte writers write, decoded. */
function written(write: (w: LineWriter) => void): string {
  const w = new LineWriter(8);
  write(w);
  return w.toString();
}
const formatInteger = (v: bigint, s: ConversionSpec) => written((w) => writeInteger(w, v, s));
const formatChar = (v: bigint, s: ConversionSpec) => written((w) => writeChar(w, v, s));
/** `%s` of text already written: precision and width applied to its bytes. */
const formatString = (text: string, s: ConversionSpec) =>
  written((w) => {
    w.text('>');
    const start = w.pos;
    w.text(text);
    finishString(w, start, s);
  }).slice(1);
const int = (fmt: string, v: number | bigint) => formatInteger(BigInt(v), spec(fmt));

test('integers: kernel vsnprintf number() rules', () => {
  const cases: [string, number | bigint, string][] = [
    ['%d', 5, '5'],
    ['%d', -5, '-5'],
    ['%5d', 5, '    5'],
    ['%-5d', 5, '5    '],
    ['%05d', -5, '-0005'],
    ['%+d', 5, '+5'],
    ['%+d', -5, '-5'],
    ['%+u', 5, '5'],
    ['%x', 255, 'ff'],
    ['%X', 255, 'FF'],
    ['%#x', 255, '0xff'],
    ['%#X', 255, '0XFF'],
    ['%#10x', 255, '      0xff'],
    ['%#010x', 255, '0x000000ff'],
    ['%-#10x', 255, '0xff      '],
    ['%o', 8, '10'],
    ['%#o', 8, '010'],
    ['%.3d', 5, '005'],
    ['%8.3d', 5, '     005'],
    ['%-8.3d', -5, '-005    '],
    ['%i', 42, '42'],
    ['%u', 0, '0'],
    ['%lu', 0, '0'],
    ['%zu', 7, '7'],
  ];
  for (const [fmt, v, want] of cases) assert.equal(int(fmt, v), want, `${fmt} of ${v}`);
});

test('integers: where the kernel differs from glibc', () => {
  // glibc prints "0" for %#x of 0, the kernel always adds the 0x prefix.
  assert.equal(int('%#x', 0), '0x0');
  // glibc ignores the 0 flag when a precision is given; the kernel keeps zero-padding.
  assert.equal(int('%08.3d', 5), '00000005');
  // glibc prints nothing for %.0d of 0; the kernel prints 0.
  assert.equal(int('%.0d', 0), '0');
  assert.equal(int('%#o', 0), '0');
});

test('integers: the argument is cast like C va_arg for the length modifier', () => {
  assert.equal(int('%u', -1), '4294967295');
  assert.equal(int('%d', 0xffffffff), '-1');
  assert.equal(int('%x', -1n), 'ffffffff');
  assert.equal(int('%hhu', 0x1ff), '255');
  assert.equal(int('%hhd', 0xff), '-1');
  assert.equal(int('%hd', 0xffff), '-1');
  assert.equal(int('%hu', 0x12345), '9029');
  assert.equal(int('%lld', 0xffffffffffffffffn), '-1');
  assert.equal(int('%llu', -1n), '18446744073709551615');
  assert.equal(int('%llx', -1n), 'ffffffffffffffff');
  assert.equal(int('%lx', 0x123456789abcdefn), '123456789abcdef');
  assert.equal(int('%ld', -9007199254740993n), '-9007199254740993');
});

test('the space flag (parsed by the kernel, refused at definition) still formats like the kernel', () => {
  const s = { ...spec('%d'), space: true };
  assert.equal(formatInteger(5n, s), ' 5');
  assert.equal(formatInteger(-5n, s), '-5');
  assert.throws(() => parsePrintFormat('% d'), /' ' flag/);
});

test('%p prints 16 zero-padded hex digits like the kernel %px', () => {
  assert.equal(int('%p', 0xabc), '0000000000000abc');
  assert.equal(int('%p', 0), '0000000000000000');
  assert.equal(int('%6p', 0xabc), '   abc');
});

test('%c and %s: width and precision count bytes', () => {
  assert.equal(formatChar(65n, spec('%c')), 'A');
  assert.equal(formatChar(65n, spec('%3c')), '  A');
  assert.equal(formatChar(65n, spec('%-3c')), 'A  ');
  assert.equal(formatString('abc', spec('%-10s')), 'abc       ');
  assert.equal(formatString('abc', spec('%10s')), '       abc');
  assert.equal(formatString('abc', spec('%.2s')), 'ab');
  assert.equal(formatString('abc', spec('%5.2s')), '   ab');
  assert.equal(formatString('abc', spec('%.0s')), '');
  assert.equal(formatString('é', spec('%4s')), '  é');
  assert.equal(formatString('aé', spec('%.3s')), 'aé');
});
