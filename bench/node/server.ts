/**
 * The benchmarked application: a plain HTTP server that knows nothing of ntrace. Prints its port once listening.
 * `/spin?ms=N` keeps its main thread busy for N ms before answering (the enable-while-busy measurement).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const body = Buffer.from('ok\n');
const server = createServer((req, res) => {
  if (req.url?.startsWith('/spin?ms=')) {
    const until = performance.now() + Number(req.url.slice(9));
    while (performance.now() < until);
  }
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
