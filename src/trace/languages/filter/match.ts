/**
 * String matching with the kernel's semantics (trace_events_filter.c regex_match_* and lib/glob.c), over bytes.
 * `len` is what the kernel passes: the field size for char[N], the `__data_loc` length (including the NUL) for
 * strings. Bytes past `len` count as NUL. These quirks are deliberate: `~ "*x"` on a char[N] field compares the last
 * bytes of the whole N-byte buffer (so it only matches strings of N-1 bytes), exactly as the kernel does.
 */

export enum MatchType {
  Full = 0,
  Front = 1,
  Middle = 2,
  End = 3,
  Glob = 4,
}

export interface StringPattern {
  readonly type: MatchType;
  /** The pattern the matcher uses (after removing the `*` that selected front/middle/end). */
  readonly text: string;
  readonly bytes: Uint8Array;
  /** A leading `!` in a `~` pattern inverts the match. */
  readonly not: boolean;
}

const encoder = new TextEncoder();

/** filter_parse_regex() + filter_build_regex(): `==`/`!=` compare whole strings; `~` picks a matcher from the glob. */
export function buildPattern(raw: string, glob: boolean): StringPattern {
  if (!glob) return { type: MatchType.Full, text: raw, bytes: encoder.encode(raw), not: false };
  let not = false;
  let s = raw;
  if (s[0] === '!') {
    not = true;
    s = s.slice(1);
  }
  let type = MatchType.Full;
  let text = s;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '*') {
      if (i === 0) type = MatchType.End;
      else if (i === s.length - 1) {
        type = type === MatchType.End ? MatchType.Middle : MatchType.Front;
        text = s.slice(0, i);
        break;
      } else {
        type = MatchType.Glob;
        break;
      }
    } else if (c === '[' || c === '?' || c === '\\') {
      type = MatchType.Glob;
      break;
    }
  }
  if (type !== MatchType.Glob) {
    if (s[0] === '*') text = text.slice(1);
  } else text = s;
  return { type, text, bytes: encoder.encode(text), not };
}

function at(b: Uint8Array, off: number, i: number, len: number): number {
  return i < len ? (b[off + i] ?? 0) : 0;
}

/** The kernel's match of pattern `p` against `len` bytes of `b` at `off` (result before the `not` inversion). */
export function matchBytes(p: StringPattern, b: Uint8Array, off: number, len: number): boolean {
  const pat = p.bytes;
  const pl = pat.length;
  switch (p.type) {
    case MatchType.Full: {
      // strncmp(str, pattern, len) == 0
      for (let i = 0; i < len; i++) {
        const c = at(b, off, i, len);
        const d = i < pl ? pat[i] : 0;
        if (c !== d) return false;
        if (c === 0) return true;
      }
      return true;
    }
    case MatchType.Front: {
      if (len < pl) return false;
      for (let i = 0; i < pl; i++) if (at(b, off, i, len) !== pat[i]) return false;
      return true;
    }
    case MatchType.Middle: {
      if (pl === 0) return true;
      for (let start = 0; start + pl <= len; start++) {
        let ok = true;
        for (let i = 0; i < pl; i++) {
          if (at(b, off, start + i, len) !== pat[i]) {
            ok = false;
            break;
          }
        }
        if (ok) return true;
      }
      return false;
    }
    case MatchType.End: {
      const slen = len - 1;
      if (slen < pl) return false;
      for (let i = 0; i < pl; i++) if (at(b, off, slen - pl + i, len) !== pat[i]) return false;
      return true;
    }
    default:
      return globMatch(pat, b, off, len);
  }
}

/**
 * lib/glob.c semantics: `*` any run, `?` any one byte (not NUL), `[...]` classes with ranges and a leading `!`
 * inversion (a malformed class is a literal `[`), `\` escapes the next byte. Backtracks to the last `*` only, so it
 * runs in O(pattern × string).
 */
export function globMatch(pat: Uint8Array, b: Uint8Array, off: number, len: number): boolean {
  const pl = pat.length;
  let pi = 0;
  let si = 0;
  let backPat = -1;
  let backStr = 0;
  const pc = (i: number) => (i < pl ? pat[i] : 0);
  for (;;) {
    const c = at(b, off, si, len);
    si++;
    let d = pc(pi);
    pi++;
    let literal = false;
    let mismatch = false;
    if (d === 0x3f /* ? */) {
      if (c === 0) return false;
    } else if (d === 0x2a /* * */) {
      if (pc(pi) === 0) return true;
      backPat = pi;
      si--;
      backStr = si;
    } else if (d === 0x5b /* [ */) {
      const inverted = pc(pi) === 0x21;
      let k = pi + (inverted ? 1 : 0);
      let a = pc(k);
      k++;
      let match = false;
      let malformed = false;
      for (;;) {
        let hi = a;
        if (a === 0) {
          malformed = true;
          break;
        }
        if (pc(k) === 0x2d /* - */ && pc(k + 1) !== 0x5d /* ] */) {
          hi = pc(k + 1);
          if (hi === 0) {
            malformed = true;
            break;
          }
          k += 2;
        }
        if (a <= c && c <= hi) match = true;
        a = pc(k);
        k++;
        if (a === 0x5d) break;
      }
      if (malformed) literal = true;
      else if (match === inverted) mismatch = true;
      else pi = k;
    } else {
      if (d === 0x5c /* \ */) {
        d = pc(pi);
        pi++;
      }
      literal = true;
    }
    if (literal) {
      if (c === d) {
        if (d === 0) return true;
        continue;
      }
      mismatch = true;
    }
    if (mismatch) {
      if (c === 0 || backPat < 0) return false;
      pi = backPat;
      backStr++;
      si = backStr;
    }
  }
}
