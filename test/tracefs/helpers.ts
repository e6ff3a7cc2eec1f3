/** Mounting ntrace's tracefs in tests, and running shell commands against it. */
import { spawn, spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';
import { clearBuffer, setTracingOn } from '../../src/trace/engine.js';
import { type MountOptions, mount, type TracefsMount } from '../../src/tracefs/index.js';
import { tempMountpoint } from '../support/mount.js';

/** A tracefs mount unmounted after the test, whatever happens. */
export async function mountTracefs(t: TestContext, options: MountOptions = {}): Promise<TracefsMount> {
  let m: TracefsMount | undefined;
  const dir = tempMountpoint(t, () => m?.close() ?? Promise.resolve());
  m = await mount(dir, options);
  // The engine is process-wide: start every test with an empty, running top-level buffer.
  clearBuffer(0);
  setTracingOn(0, true);
  return m;
}

export interface ShellResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs a shell script (synchronously: the mount is served by another thread). */
export function sh(script: string, cwd?: string, timeout = 20_000): ShellResult {
  const r = spawnSync('sh', ['-c', script], { encoding: 'utf8', timeout, cwd });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
}

/** Runs a shell script, failing with its stderr unless it succeeds; returns stdout. */
export function ok(script: string, cwd?: string): string {
  const r = sh(script, cwd);
  if (r.code !== 0) throw new Error(`\`${script}\` failed (${r.code}): ${r.err}`);
  return r.out;
}

/** Unique event system names per test file (the engine's registry is process-wide). */
let serial = 0;
export function uniqueSystem(prefix: string): string {
  return `${prefix}${process.pid % 10000}_${++serial}`;
}

const PY_PRELUDE = `
import os, errno, sys, select, time
def t(f):
    try:
        r = f()
        print('OK' if r is None else r)
    except OSError as e:
        print(errno.errorcode[e.errno])
def w(path, data, flags=os.O_WRONLY):
    fd = os.open(path, flags)
    try:
        return os.write(fd, data)
    finally:
        os.close(fd)
`;

/**
 * Runs python3 statements after a prelude with `t(lambda: ...)` (prints the result, `OK`, or the errno name) and
 * `w(path, bytes)` (one write(2), returns the count): the shell cannot show errnos or short counts exactly.
 */
export function py(code: string, cwd?: string): string[] {
  const r = spawnSync('python3', ['-c', PY_PRELUDE + code], { encoding: 'utf8', timeout: 20_000, cwd });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout.trimEnd().split('\n');
}

/** assert.match with a short message (trace text can be long). */
export function assertMatch(text: string, re: RegExp, label = ''): void {
  if (!re.test(text)) {
    const shown = text.length > 1200 ? `${text.slice(0, 600)}\n…\n${text.slice(-600)}` : text;
    throw new Error(`${label ? `${label}: ` : ''}${re} did not match:\n${shown}`);
  }
}

/**
 * Opens `path` in a python3 child (`open` is the Python expression for the fd, e.g. `os.open(P, os.O_RDONLY)` with
 * P bound to the path), runs `between` while it is held open, then evaluates `after` (Python, `fd` bound) in the
 * child and returns what `t(lambda: after)` printed: the result, `OK` or the errno name.
 */
export async function whileOpen(
  path: string,
  open: string,
  between: () => unknown | Promise<unknown>,
  after: string,
): Promise<string> {
  const code = `${PY_PRELUDE}
P = ${JSON.stringify(path)}
try:
    fd = ${open}
    print('open', flush=True)
except OSError as e:
    print('open-failed', errno.errorcode[e.errno], flush=True)
    sys.exit(0)
sys.stdin.readline()
t(lambda: ${after})
`;
  const child = spawn('python3', ['-c', code], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('open')) resolve();
      });
      child.stderr.on('data', (chunk: string) => {
        err += chunk;
      });
      child.on('close', () => reject(new Error(`python exited early: ${out} ${err}`)));
    });
    if (out.startsWith('open-failed')) return out.trim();
    await between();
    child.stdin.end('\n');
    await exited;
  } finally {
    clearTimeout(killer);
    child.kill('SIGKILL');
  }
  const lines = out.trimEnd().split('\n');
  return lines[lines.length - 1];
}

/** Starts a shell script in the background; `done` settles with its exit code and output. */
export function background(script: string, timeoutMs = 20_000): { done: Promise<ShellResult>; kill(): void } {
  const child = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<ShellResult>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), out, err });
    }),
  );
  return { done, kill: () => child.kill('SIGKILL') };
}

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
