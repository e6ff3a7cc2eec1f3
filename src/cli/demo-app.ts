/**
 * The demo application: an HTTP server on loopback, instrumented with ntrace events, and a client that keeps it
 * busy. Events: http:request_start (method, url), http:request_end (method, url, status, duration_us, bytes).
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defineEvent } from '../index.js';

export const requestStart = defineEvent(
  'http',
  'request_start',
  { method: 'string', url: 'string' },
  { print: 'method=%s url=%s' },
);
export const requestEnd = defineEvent(
  'http',
  'request_end',
  { method: 'string', url: 'string', status: 'u16', duration_us: 'u32', bytes: 'u32' },
  { print: 'method=%s url=%s status=%u duration_us=%u bytes=%u' },
);

const ROUTES = ['/', '/api/users', '/api/users/42', '/api/orders', '/static/app.js', '/missing', '/api/fail'];

function statusFor(url: string): number {
  if (url === '/missing') return 404;
  if (url === '/api/fail') return 500;
  return 200;
}

export interface DemoApp {
  readonly port: number;
  readonly requests: () => number;
  stop(): Promise<void>;
}

/** Starts the server and the client (`ratePerSecond` requests per second). */
export async function startDemoApp(ratePerSecond = 20): Promise<DemoApp> {
  const server: Server = createServer((req, res) => {
    const started = process.hrtime.bigint();
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    if (requestStart.enabled) requestStart.emit({ method, url });
    const status = statusFor(url);
    const body = status === 200 ? `hello from ${url}\n`.repeat(1 + (url.length % 5)) : `error ${status}\n`;
    // A little simulated work so durations differ.
    setTimeout(
      () => {
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(body);
        if (requestEnd.enabled) {
          const duration_us = Number((process.hrtime.bigint() - started) / 1000n);
          requestEnd.emit({ method, url, status, duration_us, bytes: Buffer.byteLength(body) });
        }
      },
      Math.floor(Math.random() * 5),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  let count = 0;
  let i = 0;
  const timer = setInterval(
    () => {
      const url = ROUTES[i++ % ROUTES.length];
      const method = i % 7 === 0 ? 'POST' : 'GET';
      const req = httpRequest({ host: '127.0.0.1', port, path: url, method, agent: false }, (res) => {
        res.resume();
        res.on('end', () => count++);
      });
      req.on('error', () => {});
      req.end();
    },
    Math.max(1, Math.round(1000 / ratePerSecond)),
  );
  return {
    port,
    requests: () => count,
    stop: async () => {
      clearInterval(timer);
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
