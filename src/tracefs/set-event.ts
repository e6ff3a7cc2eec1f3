/**
 * `set_event`: one token per write, as the kernel's trace parser reads it (leading whitespace skipped, the token,
 * one delimiter consumed; the byte count returned says how much was taken). A token cut by the end of a write is
 * completed by the next write, or applied when the file is closed (`echo -n sched:x > set_event` works).
 */
import { FsError, type OpenedFile } from '../kernfs/index.js';
import { isEventEnabled } from '../trace/engine.js';
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

/** A write: returns the bytes consumed. `pending` holds a token continued across writes. */
export function writeSetEvent(inst: TraceInstance, file: OpenedFile, data: Uint8Array): number {
  const text = writtenText(data);
  if (text.length === 0) return 0;
  let i = 0;
  let token = typeof file.priv === 'string' ? file.priv : '';
  if (token === '') while (i < text.length && isSpace(text[i])) i++;
  while (i < text.length && !isSpace(text[i])) {
    token += text[i++];
    if (token.length > TOKEN_MAX) {
      file.priv = undefined;
      throw new FsError('EINVAL');
    }
  }
  // Byte count of what was taken: the characters read plus the delimiter.
  const delimited = i < text.length;
  const consumedChars = delimited ? i + 1 : i;
  const consumed = new TextEncoder().encode(text.slice(0, consumedChars)).length;
  if (!delimited) {
    file.priv = token; // the token may continue in the next write, or ends at close
    return consumed;
  }
  file.priv = undefined;
  if (token !== '') applyToken(inst, token);
  return consumed;
}

/** At close: a token left without a delimiter is applied now (errors have no one to go to). */
export function flushSetEvent(inst: TraceInstance, file: OpenedFile): void {
  const token = typeof file.priv === 'string' ? file.priv : '';
  file.priv = undefined;
  if (token === '') return;
  try {
    applyToken(inst, token);
  } catch {}
}
