/**
 * `openTarget(spec)`: what a verb's TARGET names — a PID (of a process serving ntrace), a socket path or a mount
 * path — turned into one `TreeClient`.
 */
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { listLive } from '../discovery/index.js';
import { MountClient } from './mount-client.js';
import { SocketClient } from './socket-client.js';
import type { TreeClient } from './tree-client.js';

/** TARGET names nothing usable; the message says why, in words a user can act on. */
export class TargetError extends Error {
  override readonly name = 'TargetError';
}

export async function openTarget(spec: string): Promise<TreeClient> {
  if (/^[0-9]+$/.test(spec)) return openPid(Number(spec));
  const path = resolve(spec);
  let st: Awaited<ReturnType<typeof fs.stat>>;
  try {
    st = await fs.stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TargetError(`${spec}: no such process, socket or directory`);
    if (code === 'ENOTCONN') throw new TargetError(`${spec}: a dead FUSE mount (its process is gone)`);
    throw new TargetError(`${spec}: ${(err as Error).message}`);
  }
  if (st.isDirectory()) return new MountClient(path);
  if (st.isSocket()) return connectSocket(spec, path);
  throw new TargetError(`${spec}: neither a PID, an ntrace socket nor a mounted directory`);
}

/**
 * The socket TARGET names (`ntrace mount`, which needs the socket itself): a PID's, through the discovery index, or
 * a socket path.
 */
export async function targetSocket(spec: string): Promise<string> {
  if (/^[0-9]+$/.test(spec)) {
    const entries = listLive().filter((e) => e.pid === Number(spec));
    if (entries.length === 0) throw new TargetError(`${spec}: no ntrace process with this pid is listed for this user`);
    const socket = entries.find((e) => e.socket !== undefined)?.socket;
    if (!socket) throw new TargetError(`${spec}: serves no socket (only a mount)`);
    return socket;
  }
  const path = resolve(spec);
  let st: Awaited<ReturnType<typeof fs.stat>>;
  try {
    st = await fs.stat(path);
  } catch (err) {
    throw new TargetError(
      `${spec}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such process or socket' : (err as Error).message}`,
    );
  }
  if (!st.isSocket())
    throw new TargetError(`${spec}: not a socket (give a PID listed by 'ntrace ls', or a socket path)`);
  return path;
}

async function connectSocket(spec: string, path: string): Promise<TreeClient> {
  try {
    return await SocketClient.connect(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES') throw new TargetError(`${spec}: permission denied (the socket's owner or group only)`);
    if (code === 'ECONNREFUSED') throw new TargetError(`${spec}: nobody serves this socket any more`);
    throw new TargetError(`${spec}: ${(err as Error).message}`);
  }
}

/**
 * A PID through the discovery index: its socket first (it is always served, and reaches the tree whatever the
 * mount namespace), else its mount.
 */
async function openPid(pid: number): Promise<TreeClient> {
  const entries = listLive().filter((e) => e.pid === pid);
  if (entries.length === 0) throw new TargetError(`${pid}: no ntrace process with this pid is listed for this user`);
  let failure: Error | undefined;
  for (const e of entries) {
    if (e.socket === undefined) continue;
    try {
      return await connectSocket(String(pid), e.socket);
    } catch (err) {
      failure = err as Error;
    }
  }
  const withMount = entries.find((e) => e.mount !== undefined);
  if (withMount?.mount) return new MountClient(withMount.mount);
  throw failure ?? new TargetError(`${pid}: serves no tree this command can reach`);
}
