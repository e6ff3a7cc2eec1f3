/**
 * `ntrace mount TARGET DIR`: TARGET's tree (a PID or a socket path) mounted at DIR by this command, proxied over the
 * socket (src/proxy/), until Ctrl-C — or until the target goes away: then it unmounts and exits with status 3.
 */
import { resolve } from 'node:path';
import { TargetError, targetSocket } from '../client/open-target.js';
import { mountProxy } from '../proxy/mount-proxy.js';
import { catchStopSignals } from './until-signal.js';

export async function runMountProxy(target: string, dir: string): Promise<number> {
  const stop = catchStopSignals();
  let socket: string;
  try {
    socket = await targetSocket(target);
  } catch (err) {
    if (!(err instanceof TargetError)) throw err;
    process.stderr.write(`ntrace: ${err.message}\n`);
    return 3;
  }
  let m: Awaited<ReturnType<typeof mountProxy>>;
  try {
    m = await mountProxy(socket, resolve(dir));
  } catch (err) {
    process.stderr.write(`ntrace: cannot mount ${target} at ${dir}: ${(err as Error).message}\n`);
    return 3;
  }
  process.stdout.write(`ntrace: ${target} mounted at ${resolve(dir)} (Ctrl-C to unmount)\n`);
  // No keepAlive(): the connection keeps this process alive, and its end lets the process exit.
  const why = await Promise.race([
    stop.received,
    m.targetGone.then(() => 'gone' as const),
    m.fuse.closed.then(() => 'unmounted' as const),
  ]);
  await m.close();
  if (why === 'gone') {
    process.stderr.write(`ntrace: ${target} went away; ${resolve(dir)} unmounted\n`);
    return 3;
  }
  if (why === 'unmounted') return 0;
  return stop.dieBy(why);
}
