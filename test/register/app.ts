/**
 * A small application for the register tests, started with `node --import ntrace/register`. It knows nothing of
 * ntrace (except the worker's own event, worker.ts) and obeys one command per stdin line, answering one JSON line on stdout:
 *   http | net | child | worker | dgram | block MS | modules | console | exit
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer, get } from 'node:http';
import { createRequire } from 'node:module';
import { type AddressInfo, connect, createServer as createTcpServer } from 'node:net';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';

const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const server = createServer((req, res) => res.end(`hello ${req.url}`));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as AddressInfo).port;

function httpGet(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}

const workerScript = new URL('./worker.js', import.meta.url);

const commands: Record<string, (arg: string) => Promise<object>> = {
  async http() {
    const status = await httpGet('/plain?x=1');
    // A server of its own, so that fetch connects (its pool would reuse a connection to the main one).
    const other = createServer((req, res) => res.end(`hello ${req.url}`));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const otherPort = (other.address() as AddressInfo).port;
    const r = await fetch(`http://127.0.0.1:${otherPort}/fetched`);
    await r.text();
    other.close();
    other.closeAllConnections();
    return { status, fetched: r.status, fetchPort: otherPort };
  },
  async net() {
    const tcp = createTcpServer((s) => s.end());
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    const tcpPort = (tcp.address() as AddressInfo).port;
    await new Promise<void>((resolve) => {
      const c = connect(tcpPort, '127.0.0.1');
      c.on('close', () => resolve());
      c.on('error', () => resolve());
      c.resume();
    });
    tcp.close();
    return { tcpPort };
  },
  async dgram() {
    const s = createSocket('udp4');
    s.close();
    return {};
  },
  async child() {
    const c = spawn('true');
    await new Promise((r) => c.on('exit', r));
    return { pid: c.pid };
  },
  async worker() {
    // A file, not `eval: true`: Node runs --import in file workers only.
    const w = new Worker(workerScript, { workerData: { port } });
    // Read now: once the worker has exited (it may, right after its message), threadId reads -1.
    const threadId = w.threadId;
    await new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    });
    await w.terminate();
    return { threadId };
  },
  async block(ms: string) {
    const until = Date.now() + Number(ms);
    while (Date.now() < until);
    return {};
  },
  async modules() {
    // A real file through require, a built-in through import (Node 22 publishes both loads).
    const require = createRequire(import.meta.url);
    const { name } = require('../../../package.json') as { name: string };
    await import('node:zlib');
    // Failed loads are recorded once each, with error=1.
    const missing = './no-such-module.js'; // a variable: the compiler does not look for it
    await import(missing).catch(() => {});
    try {
      require('./no-such-module.cjs');
    } catch {}
    return { name };
  },
  async console() {
    // stderr: stdout carries this protocol.
    console.warn('warned %d times', 3, { why: 'test' });
    console.error('x'.repeat(1000));
    return {};
  },
  async exit() {
    server.close();
    lines.close();
    process.stdin.unref?.();
    return {};
  },
};

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const [name, arg = ''] = line.trim().split(' ');
  const run = commands[name];
  if (!run) return say({ error: `unknown command ${name}` });
  run(arg).then(
    (result) => say({ done: name, ...result }),
    (err: Error) => say({ done: name, error: err.message }),
  );
});
say({ ready: process.pid, port });
