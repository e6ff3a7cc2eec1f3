/**
 * Where a mount's socket goes when the caller does not say: `NTRACE_SOCKET`, else `<pid>.sock` in the user's ntrace
 * directory (src/discovery: /run/ntrace for root, $XDG_RUNTIME_DIR/ntrace, /tmp/ntrace-<uid>), beside the default
 * mount directory `<pid>`. A process serving several trees at once numbers the later ones `<pid>-<n>.sock`.
 */
import { join } from 'node:path';
import { ensureIndexDirectory } from '../discovery/index.js';

const inUse = new Set<string>();

export function socketPath(): string {
  const fixed = process.env.NTRACE_SOCKET;
  const base = fixed || join(ensureIndexDirectory(), `${process.pid}.sock`);
  let path = base;
  for (let n = 2; inUse.has(path); n++) path = base.replace(/(\.sock)?$/, `-${n}$1`);
  inUse.add(path);
  return path;
}

/** The tree served on `path` has gone: the name may be used again. */
export function releaseSocketPath(path: string): void {
  inUse.delete(path);
}
