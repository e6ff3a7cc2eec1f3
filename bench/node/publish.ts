/**
 * What a diagnostics_channel publish costs the publisher, in one process and one run (interleaved rounds, fastest
 * round — on a shared machine noise only adds time):
 *   - `unused`: a channel nobody subscribes to, published the way Node's own code does (`if (ch.hasSubscribers)`);
 *   - `noop subscriber`: Node's `channel.publish` to one no-op subscriber — the peer: what any subscription costs;
 *   - `node_http, tracing off`: ntrace's http.server handlers subscribed, server_request and server_response enabled
 *     in an instance whose tracing_on is 0 — the subscription and the field extraction, no ring write;
 *   - `node_http, recording`: the same, tracing on — plus the two records written into the ring.
 * One iteration is one HTTP exchange as the server publishes it: `http.server.request.start` then
 * `http.server.response.finish`, each with Node's `{ request, response, socket, server }` message, over a new
 * IncomingMessage (as each request is; its construction is in every case, so the differences leave it out) and a
 * ServerResponse (from a pool) on a real loopback socket.
 *
 *   npm run bench:node:publish [-- --json]
 * Checks (exit 1): every exchange of the recording case left its two records (entries + overruns); no internal error.
 */
import dc from 'node:diagnostics_channel';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { connect, createServer as createTcpServer, type Socket } from 'node:net';
import { startNodeEvents } from '../../src/node/index.js';
import { createInstance, destroyInstance, findEvent, setEventEnabled, setTracingOn } from '../../src/trace/engine.js';
import { counted, failOnChecks, RecordCount, recordChecks } from '../support/records.js';
import { fastest, round } from '../support/stats.js';
import { calibrate, runRounds, type TimedCase } from '../support/timing.js';

const json = process.argv.includes('--json');
const ROUNDS = 15;
const ROUND_MS = 40;
const POOL = 256;

// A real connected socket: remoteAddress/remotePort go through Node's getters as they do in a server.
const tcp = createTcpServer();
await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
const accepted = new Promise<Socket>((r) => tcp.once('connection', r));
const client = connect((tcp.address() as { port: number }).port, '127.0.0.1');
const socket = await accepted;
const server = createServer();
const urls = Array.from({ length: POOL }, (_, k) => `/items/${k}?full=1`);
const responses = Array.from({ length: POOL }, () => {
  const response = new ServerResponse(new IncomingMessage(socket));
  response.statusCode = 200;
  return response;
});

let sink = 0;
const unusedStart = dc.channel('bench.unused.start');
const unusedFinish = dc.channel('bench.unused.finish');
const noopStart = dc.channel('bench.noop.start');
const noopFinish = dc.channel('bench.noop.finish');
const noop = (m: unknown) => {
  sink += (m as object) === undefined ? 1 : 0;
};
noopStart.subscribe(noop);
noopFinish.subscribe(noop);
const httpStart = dc.channel('http.server.request.start');
const httpFinish = dc.channel('http.server.response.finish');

const events = startNodeEvents({ watchLoop: false });
const inst = createInstance('bench-publish');
for (const name of ['server_request', 'server_response']) {
  const ev = findEvent('node_http', name);
  if (!ev) throw new Error(`node_http:${name} is not defined`);
  setEventEnabled(inst, ev.id, true);
}
events.check();
if (!httpStart.hasSubscribers || !httpFinish.hasSubscribers) throw new Error('node_http did not subscribe');

/** Publishes one exchange the way Node's http server does: the message object only when someone listens. */
function exchangeLoop(start: dc.Channel, finish: dc.Channel): (n: number) => void {
  return (n) => {
    for (let i = 0; i < n; i++) {
      const request = new IncomingMessage(socket);
      request.method = 'GET';
      request.url = urls[i & (POOL - 1)];
      const response = responses[i & (POOL - 1)];
      if (start.hasSubscribers) start.publish({ request, response, socket, server });
      if (finish.hasSubscribers) finish.publish({ request, response, socket, server });
    }
    sink += n;
  };
}

const recorded = { emits: 0 };
const count = new RecordCount(inst);
const cases: TimedCase[] = [
  { name: 'unused', run: exchangeLoop(unusedStart, unusedFinish), samples: [] },
  { name: 'noop subscriber', run: exchangeLoop(noopStart, noopFinish), samples: [] },
  { name: 'node_http, tracing off', run: exchangeLoop(httpStart, httpFinish), samples: [] },
  // Two records an exchange: server_request and server_response.
  counted({ name: 'node_http, recording', run: exchangeLoop(httpStart, httpFinish), samples: [] }, recorded, 2),
];
const tracingFor = (c: TimedCase) => setTracingOn(inst, c.name === 'node_http, recording');
for (const c of cases) {
  tracingFor(c);
  calibrate(c, ROUND_MS);
}
runRounds(cases, ROUNDS, { before: tracingFor });

const checks = recordChecks('recording', recorded.emits, count.written());
events.stop();
destroyInstance(inst);
client.destroy();
socket.destroy();
tcp.close();

const ns = Object.fromEntries(cases.map((c) => [c.name, fastest(c.samples)]));
const unused = ns.unused;
// Per publish (two per exchange), less the unused channel's cost.
const perPublish = (name: string) => round((ns[name] - unused) / 2, 1);
const result = {
  nsPerExchange: Object.fromEntries(Object.entries(ns).map(([k, v]) => [k, round(v, 1)])),
  nsPerPublishOverUnused: {
    noopSubscriber: perPublish('noop subscriber'),
    nodeHttpTracingOff: perPublish('node_http, tracing off'),
    nodeHttpRecording: perPublish('node_http, recording'),
  },
  ringWritePerRecord: round((ns['node_http, recording'] - ns['node_http, tracing off']) / 2, 1),
  sink: sink > 0,
  ...checks,
};
if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
else
  process.stdout.write(
    `bench:node:publish (${ROUNDS} rounds of ~${ROUND_MS} ms, fastest round; one exchange = request.start + response.finish)\n` +
      cases.map((c) => `  ${c.name.padEnd(24)} ${String(round(ns[c.name], 1)).padStart(8)} ns/exchange`).join('\n') +
      '\n  per publish, over an unused channel:\n' +
      `    Node, no-op subscriber          ${result.nsPerPublishOverUnused.noopSubscriber} ns\n` +
      `    ntrace node_http, tracing off   ${result.nsPerPublishOverUnused.nodeHttpTracingOff} ns (subscription + fields)\n` +
      `    ntrace node_http, recording     ${result.nsPerPublishOverUnused.nodeHttpRecording} ns\n` +
      `  ring write, per record:           ${result.ringWritePerRecord} ns\n` +
      Object.entries(checks)
        .filter(([, v]) => typeof v === 'boolean')
        .map(([k, v]) => `  ${v ? 'ok  ' : 'FAIL'} ${k}`)
        .join('\n') +
      '\n',
  );
failOnChecks(result);
