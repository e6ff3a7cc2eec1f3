/** The benchmarked application: a plain HTTP server that knows nothing of ntrace. Prints its port once listening. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const body = Buffer.from('ok\n');
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
