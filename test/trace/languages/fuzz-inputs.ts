/** Corpora and the seeded mutator shared by the fuzz tests (and by tools that replay a fuzz run). */
import type { Prng } from './prng.js';

export const ALPHABET = [
  ...'abcdefghijklmnopqrstuvwxyz_ABCXYZ0123456789',
  ...' \t\n()!&|=<>~"\'*?[]\\-+:.,;{}$%^#@/',
  '&&',
  '||',
  '==',
  '!=',
  '<=',
  '>=',
  'if ',
  ' if ',
  '0x',
  '\0',
  'é',
  '\uD800',
  'hist:',
  'keys=',
  'vals=',
  'sort=',
  '.descending',
  '.hex',
  '.log2',
  '.buckets=',
  '.execname',
  'common_pid',
  'CPU',
  'COMM',
];

export const FILTER_CORPUS = [
  'a_u8 == 1',
  'a_u16 != 0x10 && a_s32 < -5',
  '(a_u32 > 3 || a_s64 >= -9223372036854775808) && !(flag == 1)',
  'url ~ "/api/*" && name == \'x\'',
  'url ~ "[a-z]?*.js" || COMM ~ "node*"',
  'common_pid == 1 && CPU & 1',
  'bytes4 == 0x01020304 || words == 1',
  'a_u8 & 255 && a_u8 &',
  'url != "" || url ~ "!*x*"',
];
export const TRIGGER_CORPUS = [
  'traceoff',
  'traceon:5 if a_u8 == 1',
  'stacktrace:2',
  'snapshot if url ~ "x*"',
  'enable_event:test:all_types:3',
  'disable_event:test:all_types if flag == 0',
  '!traceoff',
  '!enable_event:test:all_types',
  'hist:keys=a_u8:vals=a_u32',
  'disable_hist:test:all_types:2 if a_u8 == 1',
  '!enable_hist:test:all_types',
];
export const HIST_CORPUS = [
  'hist:keys=parent_pid:vals=child_pid',
  'hist:keys=parent_pid,child_pid:sort=child_pid.descending,hitcount:size=256',
  'hist:keys=parent_comm:vals=hitcount,child_pid.hex if child_pid > 3',
  'hist:name=n1:keys=common_pid.execname',
  'hist:keys=parent_pid.log2:pause',
  'hist:keys=child_pid.buckets=10:clear',
  '!hist:keys=parent_pid:vals=child_pid',
  'hist:keys=common_cpu:sort=common_cpu:size=128',
];
export const INJECT_CORPUS = [
  'a_u8=1 a_u16=0x20 a_s32=-5',
  'url="a \\"b\\"" name=\'xyz\'',
  'a_u64=18446744073709551615 a_s64=-9223372036854775808 flag=1',
  'common_pid=5 bytes4=0x01020304',
];

export function mutate(rng: Prng, corpus: readonly string[]): string {
  if (rng.bool(0.1)) {
    let s = '';
    const n = rng.int(40);
    for (let i = 0; i < n; i++) s += rng.pick(ALPHABET);
    return s;
  }
  let s = rng.pick(corpus);
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    const i = rng.int(s.length + 1);
    switch (rng.int(6)) {
      case 0:
        s = s.slice(0, i) + rng.pick(ALPHABET) + s.slice(i);
        break;
      case 1:
        s = s.slice(0, i) + s.slice(i + 1 + rng.int(3));
        break;
      case 2: {
        const j = rng.int(s.length + 1);
        s = s.slice(0, i) + s.slice(Math.min(i, j), Math.max(i, j)) + s.slice(i);
        break;
      }
      case 3: {
        const o = rng.pick(corpus);
        s = s.slice(0, i) + o.slice(rng.int(o.length + 1));
        break;
      }
      case 4:
        s =
          s.slice(0, i) +
          rng.pick(['(', ')', '"', "'", '!', '&&', '||', ':', ' if ']).repeat(1 + rng.int(3)) +
          s.slice(i);
        break;
      default:
        if (rng.bool(0.05)) s = '('.repeat(rng.int(300)) + s + ')'.repeat(rng.int(300));
        else
          s =
            s.slice(0, i) +
            String(rng.pick([0, -1, 255, 65536, 2 ** 32, '18446744073709551616', '0x', '077', '09'])) +
            s.slice(i);
    }
  }
  return s;
}
