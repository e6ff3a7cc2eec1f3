/**
 * Real applications started with `node --import ntrace/register` (or --require) in child processes, each with its
 * own discovery index directory (NTRACE_INDEX_DIR) so tests see only their own processes. Whatever happens, the
 * child is killed and its mount and directories are gone after the test.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually, isMountPoint } from '../support/mount.js';
import { repoRoot } from '../support/paths.js';

export const appScript = fileURLToPath(new URL('./app.js', import.meta.url));
export const cliScript = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

export interface App {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly index: string;
  /** Where register mounts: `<index>/<pid>`. */
  readonly mount: string;
  send(command: string): Promise<Record<string, unknown>>;
  stderr(): string;
  readonly exited: Promise<number | null>;
}

/** A fresh index directory (removed after the test; never recursively through a mount). */
export function tempIndex(t: TestContext): string {
  const parent = mkdtempSync(join(tmpdir(), 'ntrace-register-'));
  t.after(() => {
    const index = join(parent, 'ntrace');
    if (existsSync(index)) {
      for (const name of spawnSync('ls', [index], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)) {
        const p = join(index, name);
        if (isMountPoint(p)) spawnSync('umount', ['-l', p]);
        if (name.endsWith('.json') || name.endsWith('.sock')) rmSync(p, { force: true });
        else
          try {
            rmdirSync(p);
          } catch {}
      }
      rmdirSync(index);
    }
    rmdirSync(parent);
  });
  return join(parent, 'ntrace');
}

export interface StartOptions {
  env?: Record<string, string>;
  flag?: '--import' | '--require';
  /** Wait for the mount to appear (default true). */
  waitMount?: boolean;
  /** The node binary (default: the one running the tests). */
  execPath?: string;
}

export async function startApp(t: TestContext, options: StartOptions = {}): Promise<App> {
  const index = tempIndex(t);
  const child = spawn(
    options.execPath ?? process.execPath,
    [options.flag ?? '--import', 'ntrace/register', appScript],
    {
      cwd: repoRoot, // ntrace/register resolves as the package's own subpath
      env: { ...process.env, NTRACE_INDEX_DIR: index, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const waiting: Array<(o: Record<string, unknown>) => void> = [];
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    const o = JSON.parse(line) as Record<string, unknown>;
    waiting.shift()?.(o);
  });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      waiting.push(resolve);
      void exited.then(() => reject(new Error(`the app exited; stderr: ${err}`)));
    });
  const ready = await next();
  const pid = ready.ready as number;
  const mount = join(index, String(pid));
  if (options.waitMount ?? true) {
    const up = await eventually(() => isMountPoint(mount), 20_000);
    if (!up) throw new Error(`no mount at ${mount}; stderr: ${err}`);
  }
  return {
    child,
    pid,
    port: ready.port as number,
    index,
    mount,
    send(command) {
      const reply = next();
      child.stdin!.write(`${command}\n`);
      return reply;
    },
    stderr: () => err,
    exited,
  };
}

export function read(path: string): string {
  return readFileSync(path, 'utf8');
}
