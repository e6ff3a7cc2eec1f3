/**
 * Where this user's index lives: `/run/ntrace` for root; otherwise `$XDG_RUNTIME_DIR/ntrace`, else
 * `/tmp/ntrace-<uid>`. Created 0700 and refused unless it is a real directory owned by us with no group/other
 * access, so another user cannot plant entries (or a symlink) where we read and write them.
 */
import { lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** The per-user directory (not created). `env` and `uid` are parameters so tests can point it elsewhere. */
export function indexDirectory(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): string {
  if (env.NTRACE_INDEX_DIR) return env.NTRACE_INDEX_DIR;
  if (uid === 0) return '/run/ntrace';
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime?.startsWith('/')) return join(runtime, 'ntrace');
  return `/tmp/ntrace-${uid}`;
}

/** Creates the directory (0700) if needed and checks it is safe to use; throws an Error saying why not. */
export function ensureIndexDirectory(dir = indexDirectory()): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const uid = process.getuid?.() ?? 0;
  if (!st.isDirectory()) throw new Error(`ntrace: ${dir} is not a directory`);
  if (st.uid !== uid) throw new Error(`ntrace: ${dir} belongs to uid ${st.uid}, not to us (uid ${uid})`);
  if ((st.mode & 0o077) !== 0)
    throw new Error(`ntrace: ${dir} is open to other users (mode ${(st.mode & 0o777).toString(8)}); expected 700`);
  return dir;
}
