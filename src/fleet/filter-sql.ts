/**
 * The kernel's filter language compiled to a ClickHouse boolean expression over an event table. The filter is parsed
 * by the same parser the `filter` files use (so the same texts are accepted and refused, with the same messages);
 * its jump program becomes nested AND/OR/if.
 */

import { quoteString } from '../ship/schema.js';
import { MatchType } from '../trace/languages/filter/match.js';
import type { FilterProgram, Predicate } from '../trace/languages/filter/parse.js';

/** The column (or constant) a filter/hist field reads. */
export function fieldSql(name: string, source: string): string {
  if (source === 'cpu') return 'common_cpu';
  if (source === 'comm') return 'common_comm';
  if (name === 'common_pid') return 'common_pid';
  // common_type, common_flags, common_preempt_count: not shipped (always 0 for ntrace's own events but the type).
  if (source === 'common') return '0';
  return `\`${name}\``;
}

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** lib/glob.c's `* ? [...] \` as an anchored RE2 regular expression. */
function globRegex(glob: string): string {
  let re = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '\\' && i + 1 < glob.length) re += `\\${glob[++i]}`;
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let set = glob.slice(i + 1, end);
        if (set[0] === '!') set = `^${set.slice(1)}`;
        re += `[${set.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += /[A-Za-z0-9_]/.test(c) ? c : `\\${c}`;
  }
  return `${re}$`;
}

function predicateSql(p: Predicate): string {
  const col = fieldSql(p.field.name, p.field.source);
  if (p.kind === 'nop') return '0';
  if (p.kind === 'num') {
    if (p.field.layout?.kind === 'array')
      throw new Error(`ntrace hist: filters on array field ${p.field.name} are not supported`);
    if (p.op === '&') return `bitAnd(${col}, ${p.value}) != 0`;
    return `${col} ${p.op === '==' ? '=' : p.op} ${p.value}`;
  }
  const t = p.pattern.text;
  let s: string;
  switch (p.pattern.type) {
    case MatchType.Full:
      s = `${col} = ${quoteString(t)}`;
      break;
    case MatchType.Front:
      s = `like(${col}, ${quoteString(`${likeEscape(t)}%`)})`;
      break;
    case MatchType.End:
      s = `like(${col}, ${quoteString(`%${likeEscape(t)}`)})`;
      break;
    case MatchType.Middle:
      s = `position(${col}, ${quoteString(t)}) > 0`;
      break;
    default:
      s = `match(${col}, ${quoteString(globRegex(t))})`;
  }
  return p.not ? `NOT (${s})` : s;
}

/** The program as one expression: from entry i, a true predicate equal to whenToBranch jumps to target + 1. */
export function filterSql(program: FilterProgram): string {
  const e = program.entries;
  const n = e.length;
  const memo = new Map<number, string>();
  const from = (i: number): string => {
    if (i >= n) return i === n ? '1' : '0';
    const hit = memo.get(i);
    if (hit !== undefined) return hit;
    const p = `(${predicateSql(e[i].pred)})`;
    const jump = from(e[i].target + 1);
    const next = from(i + 1);
    const whenTrue = e[i].whenToBranch ? jump : next;
    const whenFalse = e[i].whenToBranch ? next : jump;
    let s: string;
    if (whenTrue === whenFalse) s = whenTrue;
    else if (whenTrue === '1' && whenFalse === '0') s = p;
    else if (whenTrue === '0' && whenFalse === '1') s = `NOT ${p}`;
    else if (whenTrue === '1') s = `(${p} OR ${whenFalse})`;
    else if (whenFalse === '0') s = `(${p} AND ${whenTrue})`;
    else if (whenTrue === '0') s = `(NOT ${p} AND ${whenFalse})`;
    else if (whenFalse === '1') s = `(NOT ${p} OR ${whenTrue})`;
    else s = `if(${p}, ${whenTrue}, ${whenFalse})`;
    memo.set(i, s);
    return s;
  };
  return from(0);
}
