/** A closed-loop HTTP load: N keep-alive connections, each sending the next GET when the last one was answered. */
import { Agent, get } from 'node:http';

export function request(agent: Agent | false, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    }).on('error', () => resolve(false));
  });
}

/** Answered requests per second over `seconds`, `concurrency` keep-alive connections. */
export async function load(port: number, seconds: number, concurrency: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let done = 0;
  const until = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) if (await request(agent, port)) done++;
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  return done / elapsed;
}
