/**
 * The libfuse3 C peer (bench/libfuse-peer/peer.c): a reference FUSE server serving a list of paths, the
 * yardstick the FUSE and tracefs benchmarks hold ntrace against.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../test/support/paths.js';
import { isMounted, waitFor } from './shell.js';

/** gcc the peer into the git-ignored bench/.build/; reused while up to date. */
export function buildPeer(): string {
  const src = join(repoRoot, 'bench', 'libfuse-peer', 'peer.c');
  const outDir = join(repoRoot, 'bench', '.build');
  const bin = join(outDir, 'libfuse-peer');
  if (existsSync(bin) && statSync(bin).mtimeMs > statSync(src).mtimeMs) return bin;
  mkdirSync(outDir, { recursive: true });
  const flags = spawnSync('pkg-config', ['--cflags', '--libs', 'fuse3'], { encoding: 'utf8' });
  if (flags.status !== 0) throw new Error('pkg-config fuse3 failed: apt-get install -y libfuse3-dev pkg-config');
  const cc = spawnSync('gcc', ['-O2', '-Wall', '-o', bin, src, ...flags.stdout.trim().split(/\s+/)], {
    encoding: 'utf8',
  });
  if (cc.status !== 0) throw new Error(`building the libfuse peer failed:\n${cc.stderr}`);
  return bin;
}

/**
 * Starts the peer serving the paths listed in the file `spec` at `mnt`, with entry/attr timeouts of `timeoutS`
 * seconds, and waits (up to 5 s) for the mount to appear. Stop it with `stopPeer`. With `counter`, the peer counts
 * every request it receives in that file (read it with `peerRequests`).
 */
export async function startPeer(
  bin: string,
  mnt: string,
  spec: string,
  timeoutS = 3600,
  counter?: string,
): Promise<ChildProcess> {
  const extra = counter ? ['--counter', counter] : [];
  const child = spawn(bin, [mnt, '--spec', spec, '--timeout', String(timeoutS), ...extra], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d;
  });
  await waitFor(() => isMounted(mnt) || child.exitCode !== null, 5000);
  if (!isMounted(mnt)) {
    // The caller has no handle to clean up yet: don't leave a peer behind that might still mount later.
    child.kill('SIGKILL');
    throw new Error(`the libfuse peer did not mount at ${mnt}: ${err}`);
  }
  return child;
}

/** Unmounts the peer's mount (lazily: a workload may still hold it) and waits for the process to end. */
export async function stopPeer(child: ChildProcess, mnt: string): Promise<void> {
  spawnSync('umount', ['-l', mnt]);
  child.kill('SIGTERM');
  if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
}

/** Requests the peer has received so far (every opcode, those libfuse answers itself included). */
export function peerRequests(counter: string): number {
  const b = readFileSync(counter);
  return b.length >= 8 ? Number(b.readBigUInt64LE(0)) : 0;
}

/** The same count by opcode (index: the FUSE opcode, below 64). */
export function peerRequestsByOpcode(counter: string): number[] {
  const b = readFileSync(counter);
  const out: number[] = [];
  for (let op = 0; op < 64; op++) out.push(b.length >= 8 * (op + 2) ? Number(b.readBigUInt64LE(8 * (op + 1))) : 0);
  return out;
}
