/**
 * `set_event`: one token per write, as the kernel's trace parser reads it (leading whitespace skipped, the token,
 * one delimiter consumed; the byte count returned says how much was taken). Like the kernel, the token is applied
 * at the end of each write even without a delimiter (`echo -n sched:x > set_event` works).
 */
import { FsError } from '../kernfs/index.js';
import { isEventEnabled } from '../trace/index.js';
import { setEnabled } from './eventfs.js';
import { writtenText } from './parse.js';
import { type EventData, isFtraceInternal, type TraceInstance } from './state.js';

/** The kernel's parser buffer (EVENT_BUF_SIZE): longer tokens are EINVAL. */
const TOKEN_MAX = 127;

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';

/** Events a `set_event` token names: `sys:ev`, `sys:`, `sys:*`, `*:ev`, `:ev`, `*:*`, or a bare system/event name. */
export function matchEvents(inst: TraceInstance, token: string): EventData[] {
  let system: string | undefined;
  let event: string | undefined;
  let either: string | undefined;
  const colon = token.indexOf(':');
  if (colon < 0) either = token;
  else {
    system = token.slice(0, colon);
    event = token.slice(colon + 1);
    if (system === '' || system === '*') system = undefined;
    if (event === '' || event === '*') event = undefined;
  }
  const out: EventData[] = [];
  for (const sys of inst.systems.values()) {
    if (system !== undefined && sys.name !== system) continue;
    for (const ev of sys.events.values()) {
      if (isFtraceInternal(ev.desc)) continue;
      if (event !== undefined && ev.desc.name !== event) continue;
      if (either !== undefined && ev.desc.name !== either && sys.name !== either) continue;
      out.push(ev);
    }
  }
  return out;
}

/** Applies one token (`!` disables). EINVAL when nothing matches. */
export function applyToken(inst: TraceInstance, token: string): void {
  const disable = token.startsWith('!');
  const events = matchEvents(inst, disable ? token.slice(1) : token);
  if (events.length === 0) throw new FsError('EINVAL');
  setEnabled(inst, events, !disable);
}

/** The file's text: enabled events as `system:event`, in id order. */
export function setEventText(inst: TraceInstance): string {
  let s = '';
  for (const ev of [...inst.events.values()].sort((a, b) => a.desc.id - b.desc.id)) {
    if (!isFtraceInternal(ev.desc) && isEventEnabled(inst.index, ev.desc.id))
      s += `${ev.desc.system}:${ev.desc.name}\n`;
  }
  return s;
}

/** A write: applies its first token and returns the bytes consumed. */
export function writeSetEvent(inst: TraceInstance, data: Uint8Array): number {
  const text = writtenText(data);
  if (text.length === 0) return 0;
  let i = 0;
  while (i < text.length && isSpace(text[i])) i++;
  const start = i;
  while (i < text.length && !isSpace(text[i])) i++;
  if (i - start > TOKEN_MAX) throw new FsError('EINVAL');
  const token = text.slice(start, i);
  // The characters read plus the delimiter, in bytes.
  const consumed = utf8.encode(text.slice(0, i < text.length ? i + 1 : i)).length;
  if (token !== '') applyToken(inst, token);
  return consumed;
}

const utf8 = new TextEncoder();
