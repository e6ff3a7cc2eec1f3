/**
 * node_process:module_require / module_import: the module loader's tracing channels (Node 22.15+ / 23.5+; absent on
 * Node 20). The start and end messages of one load are the same context object, so the start time rides on it.
 */
import { defineEvent } from '../trace/index.js';
import { channelSource, markStart, nodeAtLeast, type Source, sinceStart, str } from './source.js';

/** Whether this Node publishes the module loader's tracing channels. */
export function publishesModuleChannels(): boolean {
  return nodeAtLeast(22, 15);
}

export function moduleSources(): Source[] {
  if (!publishesModuleChannels()) return [];
  const required = defineEvent(
    'node_process',
    'module_require',
    { id: 'string', parent: 'string', duration_ns: 'u64', error: 'u8' },
    { print: 'id=%s parent=%s duration_ns=%llu error=%u' },
  );
  const imported = defineEvent(
    'node_process',
    'module_import',
    { url: 'string', parent: 'string', duration_ns: 'u64', error: 'u8' },
    { print: 'url=%s parent=%s duration_ns=%llu error=%u' },
  );
  type Load = { id?: unknown; parentFilename?: unknown; url?: unknown; parentURL?: unknown; error?: unknown };
  const start = (m: unknown) => markStart(m as object);
  const requireEnd = (m: unknown) => {
    const c = m as Load;
    if (required.enabled)
      required.emit({
        id: str(c.id),
        parent: str(c.parentFilename),
        duration_ns: sinceStart(c),
        error: c.error === undefined ? 0 : 1,
      });
  };
  const importEnd = (m: unknown) => {
    const c = m as Load;
    if (imported.enabled)
      imported.emit({
        url: str(c.url),
        parent: str(c.parentURL),
        duration_ns: sinceStart(c),
        error: c.error === undefined ? 0 : 1,
      });
  };
  return [
    // traceSync: start, (error,) end — `end` comes after an error too, with `error` set on the context.
    channelSource([required], { 'tracing:module.require:start': start, 'tracing:module.require:end': requireEnd }),
    // tracePromise: start, end (the synchronous part), then — rejected or not — asyncEnd (after `error` when it
    // failed, with `error` set). A synchronous throw ends at `end` with `error` set, and no asyncEnd follows.
    channelSource([imported], {
      'tracing:module.import:start': start,
      'tracing:module.import:end': (m) => {
        if ((m as Load).error !== undefined) importEnd(m);
      },
      'tracing:module.import:asyncEnd': importEnd,
    }),
  ];
}
