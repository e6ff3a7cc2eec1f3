/** Running `ntrace` commands against a served tree in these tests; every process and mount is gone after the test. */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually, isMountPoint } from '../support/mount.js';

export const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** `ntrace ARGS…`, optionally as another user through setpriv (`as`: its arguments, e.g. --reuid=65534 …). */
export function ntrace(args: string[], as?: string[]): Run {
  const cmd = as ? ['setpriv', ...as, process.execPath, MAIN, ...args] : [process.execPath, MAIN, ...args];
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
}

export function sh(script: string): Run {
  const r = spawnSync('sh', ['-c', script], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
}

/** A scratch directory others may traverse (sockets are tested by their own modes), with a small events spec. */
export function scratch(t: TestContext): { dir: string; spec: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ntrace-sock-'));
  chmodSync(dir, 0o755);
  t.after(() => {
    for (const d of ['mnt', 'proxy']) if (isMountPoint(join(dir, d))) spawnSync('umount', ['-l', join(dir, d)]);
    rmSync(dir, { recursive: true, force: true });
  });
  mkdirSync(join(dir, 'mnt'));
  mkdirSync(join(dir, 'proxy'));
  const spec = join(dir, 'spec.json');
  writeFileSync(
    spec,
    JSON.stringify({ systems: [{ name: 'app', events: [{ name: 'tick', fields: [{ name: 'n', type: 'u32' }] }] }] }),
  );
  return { dir, spec };
}

export interface Started {
  readonly child: ChildProcess;
  readonly exited: Promise<number | string>;
  out(): string;
  err(): string;
}

/** Starts `argv` in the background; resolves once its stdout matches `ready`. Killed after the test. */
export async function start(t: TestContext, argv: string[], ready: RegExp): Promise<Started> {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  const exited = new Promise<number | string>((resolve) =>
    child.on('close', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return exited;
  });
  const ok = await eventually(() => ready.test(out) || child.exitCode !== null, 30_000);
  assert.ok(ok && ready.test(out), `not ready: ${out} ${err}`);
  return { child, exited, out: () => out, err: () => err };
}
