/**
 * The control channel of a serving process, for `ntrace remount DIR --gid N` (the counterpart of
 * `mount -o remount,gid=N`): a unix socket whose path is derived from the mount point, in a directory only the
 * serving user can enter. One JSON request per line, one JSON reply per line.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, realpathSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ReconfigureOptions } from './mount.js';

export interface ControlRequest {
  readonly op: 'reconfigure';
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
}

export interface ControlReply {
  readonly ok: boolean;
  readonly error?: string;
}

/** Where the serving process of `mountpoint` listens, for the current user. */
export function controlSocketPath(mountpoint: string): string {
  let real = resolve(mountpoint);
  try {
    real = realpathSync(real);
  } catch {}
  const hash = createHash('sha256').update(real).digest('hex').slice(0, 24);
  return join(tmpdir(), `ntrace-${process.getuid?.() ?? 0}`, `${hash}.sock`);
}

/**
 * Listens at `path` (controlSocketPath of `mountpoint`) for control requests; `close()` removes the socket. The
 * caller works the path out before it mounts: resolving a mount point that is already mounted sends a request to our
 * own mount from this thread, and a death while it waits leaves the thread stuck (issue 16).
 */
export async function serveControl(
  path: string,
  mountpoint: string,
  reconfigure: (changes: ReconfigureOptions) => Promise<void>,
): Promise<{ readonly path: string; close(): Promise<void> }> {
  const dir = join(path, '..');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  if (existsSync(path)) {
    // A socket left by a process that died: nobody answers it any more.
    if (await answers(path)) throw new Error(`another ntrace process serves ${mountpoint} (${path})`);
    unlinkSync(path);
  }
  const server: Server = createServer((conn) => {
    let buf = '';
    conn.setEncoding('utf8');
    conn.on('error', () => {});
    conn.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > 4096) return conn.destroy();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const line = buf.slice(0, nl);
      buf = '';
      void handle(line, reconfigure).then((reply) => conn.end(`${JSON.stringify(reply)}\n`));
    });
  });
  server.unref();
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(path, () => res());
  });
  chmodSync(path, 0o600);
  return {
    path,
    close: () =>
      new Promise<void>((res) => {
        server.close(() => res());
        try {
          unlinkSync(path);
        } catch {}
      }),
  };
}

async function handle(
  line: string,
  reconfigure: (changes: ReconfigureOptions) => Promise<void>,
): Promise<ControlReply> {
  let req: ControlRequest;
  try {
    req = JSON.parse(line) as ControlRequest;
  } catch {
    return { ok: false, error: 'bad request' };
  }
  if (req?.op !== 'reconfigure') return { ok: false, error: 'unknown request' };
  try {
    await reconfigure({ uid: req.uid, gid: req.gid, mode: req.mode });
    return { ok: true };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

function answers(path: string): Promise<boolean> {
  return new Promise((res) => {
    const c = createConnection(path);
    c.once('connect', () => {
      c.destroy();
      res(true);
    });
    c.once('error', () => res(false));
  });
}

/** Sends one request to the process serving `mountpoint`. */
export function sendControl(mountpoint: string, req: ControlRequest, timeoutMs = 5000): Promise<ControlReply> {
  const path = controlSocketPath(mountpoint);
  return new Promise((res, rej) => {
    if (!existsSync(path)) {
      rej(new Error(`no ntrace process serves ${mountpoint} for this user (no ${path})`));
      return;
    }
    const c = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      c.destroy();
      rej(new Error(`the ntrace process serving ${mountpoint} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    c.setEncoding('utf8');
    c.on('connect', () => c.write(`${JSON.stringify(req)}\n`));
    c.on('data', (chunk: string) => {
      buf += chunk;
    });
    c.on('end', () => {
      clearTimeout(timer);
      try {
        res(JSON.parse(buf) as ControlReply);
      } catch {
        rej(new Error('bad reply from the serving process'));
      }
    });
    c.on('error', (err) => {
      clearTimeout(timer);
      rej(new Error(`cannot reach the ntrace process serving ${mountpoint}: ${err.message}`));
    });
  });
}
