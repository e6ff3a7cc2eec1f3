/**
 * The benchmarked HTTP application (bench/node/server.ts: a plain server that knows nothing of ntrace), started as a
 * child process, with or without `--import ntrace/register`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { request } from './http-load.js';
import { isMounted } from './shell.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const serverScript = fileURLToPath(new URL('../node/server.js', import.meta.url));

export interface HttpApp {
  readonly child: ChildProcess;
  readonly port: number;
  /** ms from spawn to the first answered request. */
  readonly firstRequestMs: number;
  /** With `register`: the app's mount (`<index>/<pid>`), mounted when start resolves. */
  readonly mount?: string;
  stop(): Promise<void>;
}

export interface HttpAppOptions {
  /** Under `--import ntrace/register`, announcing its mount in the discovery index `index`. */
  readonly register?: { readonly index: string };
  /** Added to this process's environment. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Starts the app; resolves once it answered a request (and, with register, its mount is there). */
export async function startHttpApp(o: HttpAppOptions = {}): Promise<HttpApp> {
  const args = o.register ? ['--import', 'ntrace/register', serverScript] : [serverScript];
  const env = { ...process.env, ...o.env, ...(o.register ? { NTRACE_INDEX_DIR: o.register.index } : {}) };
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', () => reject(new Error('the HTTP app exited')));
    });
    const { port } = JSON.parse(line) as { port: number };
    while (!(await request(false, port))) await sleep(1);
    const firstRequestMs = performance.now() - t0;
    let mount: string | undefined;
    if (o.register) {
      mount = join(o.register.index, String(child.pid));
      for (const until = Date.now() + 20_000; !isMounted(mount); await sleep(20))
        if (Date.now() > until) throw new Error(`no mount at ${mount}`);
    }
    return { child, port, firstRequestMs, mount, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
