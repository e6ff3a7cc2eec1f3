/** Random print strings and corrupt records: the text output refuses or degrades, never throws. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  compilePrintFormat,
  parsePrintFormat,
  printText,
  validatePrintFormat,
} from '../../../src/trace/text/print-format.js';
import { DEFAULT_TRACE_TEXT_OPTIONS, traceLine } from '../../../src/trace/text/trace-line.js';
import { rng } from '../../support/random.js';
import { makeEvent, makeRecord } from './support.js';

const PIECES = [
  '%',
  'd',
  's',
  'u',
  'x',
  'll',
  'l',
  'h',
  '-',
  '0',
  '#',
  '+',
  ' ',
  '.',
  '5',
  '99999',
  '*',
  'p',
  'S',
  'c',
  'é',
  '\n',
  'a=',
  '%%',
];
const FIELDS = { a: 'u8', b: 's64', c: 'string', d: 'char[4]', e: 'u16[2]', f: 'bool' } as const;

test('random print strings: parse and validate only ever throw TypeError; parsed ones compile and render', () => {
  const r = rng(42);
  const e = makeEvent(1, 'f', 'z', FIELDS);
  let accepted = 0;
  for (let i = 0; i < 20000; i++) {
    let s = '';
    const n = Math.floor(r() * 12);
    for (let k = 0; k < n; k++) s += PIECES[Math.floor(r() * PIECES.length)];
    try {
      parsePrintFormat(s);
    } catch (err) {
      assert.ok(err instanceof TypeError, `${JSON.stringify(s)}: ${err}`);
      continue;
    }
    accepted++;
    // Compiling does not require a validated format (the engine might skip validation): it must still render.
    const write = compilePrintFormat(s, e.layout);
    assert.equal(typeof printText(write, new Uint8Array(64).fill(0xff)), 'string');
    try {
      validatePrintFormat(s, e.fields);
    } catch (err) {
      assert.ok(err instanceof TypeError, `${JSON.stringify(s)}: ${err}`);
    }
  }
  assert.ok(accepted > 1000, `only ${accepted} random formats parsed`);
});

test('random record bytes: every option set renders a line ending in a newline', () => {
  const r = rng(7);
  const events = [
    makeEvent(2, 'f', 'all', FIELDS),
    makeEvent(5, 'ftrace', 'print', { ip: 'u64', buf: 'string' }),
    makeEvent(19, 'ftrace', 'raw_data', { id: 'u32', buf: 'string' }),
    makeEvent(3, 'f', 'fmt', { a: 'u32', s: 'string' }, 'a=%#x s=%-8s'),
  ];
  const optionSets = [
    DEFAULT_TRACE_TEXT_OPTIONS,
    { ...DEFAULT_TRACE_TEXT_OPTIONS, raw: true },
    { ...DEFAULT_TRACE_TEXT_OPTIONS, hex: true },
    { ...DEFAULT_TRACE_TEXT_OPTIONS, fields: true },
    { ...DEFAULT_TRACE_TEXT_OPTIONS, printkMsgOnly: true, recordTgid: true, clockInNs: false },
  ];
  for (let i = 0; i < 5000; i++) {
    const len = Math.floor(r() * 80);
    const data = new Uint8Array(len);
    for (let k = 0; k < len; k++) data[k] = Math.floor(r() * 256);
    const ev = r() < 0.1 ? undefined : events[Math.floor(r() * events.length)];
    const rec = makeRecord(ev, data, {
      cpu: Math.floor(r() * 300),
      ts: BigInt(Math.floor(r() * 1e15)),
      comm: 'x',
      pid: 1,
    });
    for (const o of optionSets) {
      const line = traceLine(rec, o, Math.floor(r() * 3));
      assert.ok(line.endsWith('\n'), JSON.stringify(line));
      assert.ok(!line.includes('<render error'), line);
    }
  }
});
