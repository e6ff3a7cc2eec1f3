/** `ntrace demo`: the instrumented HTTP demo, mounted at ./tracing by default. */
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { startNodeEvents } from '../node/index.js';
import { mount } from '../tracefs/index.js';
import { catchStopSignals } from './until-signal.js';

export async function runDemo(args: { mount: string }): Promise<number> {
  const stop = catchStopSignals();
  const dir = resolve(args.mount);
  const created = !existsSync(dir);
  if (created) mkdirSync(dir, { recursive: true });
  // Imported here so that other commands do not define the demo's events.
  const { startDemoApp } = await import('./demo-app.js');
  let m: Awaited<ReturnType<typeof mount>>;
  try {
    m = await mount(dir, { control: true });
  } catch (err) {
    if (created) rmdirSync(dir);
    throw err;
  }
  // Node's own events (node_http, node_net, node_runtime…) beside the demo's: what `--import ntrace/register` adds.
  const nodeEvents = startNodeEvents();
  const app = await startDemoApp();
  // Inside the working directory a relative path is shorter to type; elsewhere the absolute one is clearer.
  const rel = relative(process.cwd(), dir);
  const shown = rel === '' ? '.' : rel.startsWith('..') ? dir : rel;
  process.stdout.write(
    `ntrace demo: HTTP server on 127.0.0.1:${app.port}, a client sends it ~20 requests/s.\n` +
      `tracefs mounted at ${dir}. In another shell:\n\n` +
      `  echo 1 > ${shown}/events/http/enable          # the demo's own events\n` +
      `  echo 1 > ${shown}/events/node_http/enable     # Node's, recorded with no code in the app\n` +
      `  cat ${shown}/trace_pipe\n\n` +
      `or, from anywhere: ntrace ls; ntrace tail ${process.pid} node_http http\n` +
      'Ctrl-C stops the demo and unmounts.\n',
  );
  stop.keepAlive();
  const why = await Promise.race([stop.received, m.closed.then(() => 'closed' as const)]);
  await app.stop();
  await nodeEvents.stop();
  await m.close();
  if (created) {
    try {
      rmdirSync(dir);
    } catch {}
  }
  process.stdout.write(`ntrace demo: stopped after ${app.requests()} requests.\n`);
  return why === 'closed' ? 1 : stop.dieBy(why);
}
