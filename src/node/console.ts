/**
 * node_process:console: `console.log/info/debug/warn/error` calls (Node 22.14+ / 23.5+ publish them; absent on
 * Node 20), the message as util.format writes it, cut at CONSOLE_MAX characters.
 */
import { format } from 'node:util';
import { defineEvent } from '../trace/index.js';
import { channelSource, nodeAtLeast, type Source } from './source.js';

/** Longest message kept, in characters (UTF-16 units, as String.prototype.slice counts). */
export const CONSOLE_MAX = 256;

const LEVELS = ['log', 'info', 'debug', 'warn', 'error'] as const;

export function consoleSources(): Source[] {
  if (!nodeAtLeast(22, 14)) return [];
  const event = defineEvent('node_process', 'console', { level: 'string', message: 'string' }, { print: '%s: %s' });
  // An argument whose inspect() logs would bring us back here: such nested calls are not recorded.
  let inside = false;
  const handler = (level: string) => (m: unknown) => {
    if (!event.enabled || inside) return;
    inside = true;
    try {
      const args = m as unknown[];
      event.emit({ level, message: format(...args).slice(0, CONSOLE_MAX) });
    } finally {
      inside = false;
    }
  };
  return [channelSource([event], Object.fromEntries(LEVELS.map((l) => [`console.${l}`, handler(l)])))];
}
