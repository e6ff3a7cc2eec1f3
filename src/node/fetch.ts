/** node_fetch: the bundled undici's channels (what `fetch()` publishes). */
import { defineEvent } from '../trace/index.js';
import { channelSource, errorText, markStart, type Source, since, sinceStart, str } from './source.js';

interface UndiciRequest {
  origin?: unknown;
  method?: unknown;
  path?: unknown;
}
interface ConnectParams {
  host?: unknown;
  protocol?: unknown;
}

export function fetchSources(): Source[] {
  const create = defineEvent(
    'node_fetch',
    'request_create',
    { method: 'string', origin: 'string', path: 'string' },
    { print: '%s %s%s' },
  );
  const headers = defineEvent(
    'node_fetch',
    'request_headers',
    { method: 'string', origin: 'string', path: 'string', status: 'u16', duration_ns: 'u64' },
    { print: '%s %s%s status=%u duration_ns=%llu' },
  );
  const error = defineEvent(
    'node_fetch',
    'request_error',
    { method: 'string', origin: 'string', path: 'string', duration_ns: 'u64', error: 'string' },
    { print: '%s %s%s duration_ns=%llu error=%s' },
  );
  const connect = defineEvent(
    'node_fetch',
    'connect',
    { protocol: 'string', host: 'string', duration_ns: 'u64' },
    { print: '%s//%s duration_ns=%llu' },
  );
  const connectError = defineEvent(
    'node_fetch',
    'connect_error',
    { protocol: 'string', host: 'string', duration_ns: 'u64', error: 'string' },
    { print: '%s//%s duration_ns=%llu error=%s' },
  );
  // By host: undici publishes `connected` with a copy of the params `beforeConnect` had (concurrent connects to one
  // host share the latest start).
  const connectStarts = new Map<string, bigint>();
  const fields = (r: UndiciRequest) => ({ method: str(r.method), origin: str(r.origin), path: str(r.path) });
  return [
    channelSource([create, headers, error], {
      'undici:request:create': (m) => {
        const { request } = m as { request: UndiciRequest };
        // Only the events that print a duration need the start.
        if (headers.enabled || error.enabled) markStart(request);
        if (create.enabled) create.emit(fields(request));
      },
      'undici:request:headers': (m) => {
        const { request, response } = m as { request: UndiciRequest; response: { statusCode?: number } };
        if (headers.enabled)
          headers.emit({
            ...fields(request),
            status: response?.statusCode ?? 0,
            duration_ns: sinceStart(request),
          });
      },
      'undici:request:error': (m) => {
        const { request, error: e } = m as { request: UndiciRequest; error: unknown };
        if (error.enabled) error.emit({ ...fields(request), duration_ns: sinceStart(request), error: errorText(e) });
      },
    }),
    channelSource([connect, connectError], {
      'undici:client:beforeConnect': (m) => {
        connectStarts.set(str((m as { connectParams: ConnectParams }).connectParams?.host), process.hrtime.bigint());
      },
      'undici:client:connected': (m) => {
        const p = (m as { connectParams: ConnectParams }).connectParams;
        const host = str(p?.host);
        const started = connectStarts.get(host);
        connectStarts.delete(host);
        if (connect.enabled) connect.emit({ protocol: str(p?.protocol), host, duration_ns: since(started) });
      },
      'undici:client:connectError': (m) => {
        const { connectParams: p, error: e } = m as { connectParams: ConnectParams; error: unknown };
        const started = connectStarts.get(str(p?.host));
        connectStarts.delete(str(p?.host));
        if (connectError.enabled)
          connectError.emit({
            protocol: str(p?.protocol),
            host: str(p?.host),
            duration_ns: since(started),
            error: errorText(e),
          });
      },
    }),
  ];
}
