/**
 * `ntrace trace-cmd TARGET -- ARGS…`: runs trace-cmd with ARGS against TARGET's mount, through the preload shim.
 */
import { spawn, spawnSync } from 'node:child_process';
import { openTarget } from '../client/index.js';
import { ensureShim, ShimError } from './shim.js';

/** What trace-cmd is started with: the environment that points it at `mountDir`. */
export function traceCmdEnv(mountDir: string, shim: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const preload = env.LD_PRELOAD ? `${shim}:${env.LD_PRELOAD}` : shim;
  return { ...env, LD_PRELOAD: preload, NTRACE_TRACING_DIR: mountDir };
}

export async function runTraceCmd(target: string, args: readonly string[]): Promise<number> {
  const tree = await openTarget(target);
  await tree.close();
  if (tree.kind !== 'mount')
    throw new ShimError(`trace-cmd reads files: ${target} must be a mounted ntrace directory (or a PID serving one)`);
  const which = spawnSync('trace-cmd', ['--version'], { encoding: 'utf8' });
  if (which.error)
    throw new ShimError(`trace-cmd is not installed (${which.error.message}); Debian: apt-get install trace-cmd`);
  const shim = ensureShim();
  const child = spawn('trace-cmd', [...args], { stdio: 'inherit', env: traceCmdEnv(tree.location, shim) });
  // trace-cmd handles SIGINT itself (record stops and writes its file): a signal sent to this process only is passed
  // on (from a terminal, both get it; trace-cmd takes a second one in its stride).
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
}
