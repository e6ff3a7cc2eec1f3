/** Running commands in tests: shell scripts, `ntrace` itself, and background processes that are gone after the test. */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually } from './mount.js';

/** The `ntrace` command (dist/src/cli/main.js). */
export const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** A spec for `ntrace serve --events` with one event (app:tick, a u32), removed after the test. */
export function oneEventSpec(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ntrace-spec-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const spec = join(dir, 'spec.json');
  writeFileSync(
    spec,
    JSON.stringify({ systems: [{ name: 'app', events: [{ name: 'tick', fields: [{ name: 'n', type: 'u32' }] }] }] }),
  );
  return spec;
}

export interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** `sh -c SCRIPT`: its exit code (-1 when killed, e.g. by the 60 s timeout) and output. */
export function sh(script: string): Run {
  const r = spawnSync('sh', ['-c', script], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
}

/** `sh -c SCRIPT`'s stdout; throws (with its stderr) unless it exits 0. */
export function shOut(script: string): string {
  const r = sh(script);
  if (r.code !== 0) throw new Error(`${script}: ${r.err}`);
  return r.out;
}

/** `ntrace ARGS…`, optionally as another user through setpriv (`as`: its arguments, e.g. --reuid=65534 …). */
export function ntrace(args: string[], as?: string[]): Run {
  const cmd = as ? ['setpriv', ...as, process.execPath, MAIN, ...args] : [process.execPath, MAIN, ...args];
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
}

export interface Started {
  readonly child: ChildProcess;
  /** The exit code, or the signal the process died by. */
  readonly exited: Promise<number | string>;
  out(): string;
  err(): string;
}

/** Starts `argv` in the background; resolves once its stdout matches `ready`. Killed (and awaited) after the test. */
export async function start(
  t: Pick<TestContext, 'after'>,
  argv: string[],
  ready: RegExp,
  cwd?: string,
): Promise<Started> {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd });
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
