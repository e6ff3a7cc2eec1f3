/**
 * node_http: the http module's diagnostics channels. Durations are measured from the matching start channel, so a
 * `*_response` event keeps that channel subscribed too.
 */
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { defineEvent } from '../trace/index.js';
import { channelSource, errorText, markStart, nodeAtLeast, type Source, sinceStart, str } from './source.js';

export function httpSources(): Source[] {
  const serverRequest = defineEvent(
    'node_http',
    'server_request',
    { method: 'string', url: 'string', remote_addr: 'string', remote_port: 'u16' },
    { print: '%s %s from %s:%u' },
  );
  const serverResponse = defineEvent(
    'node_http',
    'server_response',
    { method: 'string', url: 'string', status: 'u16', duration_ns: 'u64', remote_addr: 'string' },
    { print: '%s %s status=%u duration_ns=%llu from %s' },
  );
  const clientRequest = defineEvent(
    'node_http',
    'client_request',
    { method: 'string', host: 'string', path: 'string' },
    { print: '%s %s%s' },
  );
  const clientResponse = defineEvent(
    'node_http',
    'client_response',
    { method: 'string', host: 'string', path: 'string', status: 'u16', duration_ns: 'u64' },
    { print: '%s %s%s status=%u duration_ns=%llu' },
  );
  // http.client.request.error: Node 20.17 / 22.?; older versions publish no errors.
  const clientError = nodeAtLeast(20, 17)
    ? defineEvent(
        'node_http',
        'client_error',
        { method: 'string', host: 'string', path: 'string', duration_ns: 'u64', error: 'string' },
        { print: '%s %s%s duration_ns=%llu error=%s' },
      )
    : undefined;
  const sources: Source[] = [];

  sources.push(
    channelSource([serverRequest, serverResponse], {
      'http.server.request.start': (m) => {
        const { request, socket } = m as { request: IncomingMessage; socket: Socket };
        if (serverResponse.enabled) markStart(request);
        if (serverRequest.enabled)
          serverRequest.emit({
            method: str(request.method),
            url: str(request.url),
            remote_addr: str(socket?.remoteAddress),
            remote_port: socket?.remotePort ?? 0,
          });
      },
      'http.server.response.finish': (m) => {
        const { request, response, socket } = m as {
          request: IncomingMessage;
          response: ServerResponse;
          socket: Socket;
        };
        if (serverResponse.enabled)
          serverResponse.emit({
            method: str(request.method),
            url: str(request.url),
            status: response.statusCode,
            duration_ns: sinceStart(request),
            remote_addr: str(socket?.remoteAddress),
          });
      },
    }),
  );

  const clientHandlers: Record<string, (m: unknown) => void> = {
    'http.client.request.start': (m) => {
      const { request } = m as { request: ClientRequest };
      // Only an event that prints a duration needs the start (client_request alone costs no clock read).
      if (clientResponse.enabled || clientError?.enabled) markStart(request);
      if (clientRequest.enabled)
        clientRequest.emit({ method: request.method, host: str(request.host), path: str(request.path) });
    },
    'http.client.response.finish': (m) => {
      const { request, response } = m as { request: ClientRequest; response: IncomingMessage };
      if (clientResponse.enabled)
        clientResponse.emit({
          method: request.method,
          host: str(request.host),
          path: str(request.path),
          status: response.statusCode ?? 0,
          duration_ns: sinceStart(request),
        });
    },
  };
  const clientEvents = [clientRequest, clientResponse];
  if (clientError) {
    clientEvents.push(clientError);
    clientHandlers['http.client.request.error'] = (m) => {
      const { request, error } = m as { request: ClientRequest; error: unknown };
      if (clientError.enabled)
        clientError.emit({
          method: request.method,
          host: str(request.host),
          path: str(request.path),
          duration_ns: sinceStart(request),
          error: errorText(error),
        });
    };
  }
  sources.push(channelSource(clientEvents, clientHandlers));
  return sources;
}
