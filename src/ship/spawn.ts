/**
 * Shipping for a process's own mount (`mount(dir, { ship })`, `ntrace/register`): an `ntrace ship` child process
 * reading the mount. The application's threads keep paying only their ring writes — no reading, encoding, HTTP or
 * spool I/O runs in its event loop or its libuv pool — and the child stops (draining what it read) when the
 * application closes the mount, or by itself when the application dies. It runs at a low CPU priority (nice 19 by
 * default, `ShipOptions.nice`): its work waits while the application needs the CPU.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CHILD_NICE } from './priority.js';
import type { ShipOptions } from './shipper.js';

export interface ShipChild {
  readonly pid: number;
  /** Asks the child to finish (read what is left, send or spool it) and waits for it (SIGKILL after `ms`). */
  stop(ms?: number): Promise<void>;
}

function args(mountpoint: string, o: ShipOptions): string[] {
  const a = [
    'ship',
    mountpoint,
    '--clickhouse',
    typeof o.clickhouse === 'string' ? o.clickhouse : o.clickhouse.join(','),
  ];
  if (o.database) a.push('--database', o.database);
  for (const e of o.events ?? []) a.push('-e', e);
  if (o.filter !== undefined) a.push('-f', o.filter);
  if (o.service) a.push('--service', o.service);
  if (o.cluster) a.push('--cluster', o.cluster);
  if (o.spoolDir) a.push('--spool', o.spoolDir);
  if (o.spoolMaxBytes) a.push('--spool-max-mb', String(Math.max(1, Math.round(o.spoolMaxBytes / 2 ** 20))));
  if (o.bufferKb) a.push('--buffer-kb', String(o.bufferKb));
  if (o.batchMs) a.push('--batch-ms', String(Math.max(1, Math.round(o.batchMs))));
  a.push('--nice', String(o.nice ?? CHILD_NICE));
  return [...a, '--parent-pid', String(process.pid)];
}

/** Starts the child; resolves once its instance exists and the events are enabled (rejects with its message). */
export function spawnShipper(mountpoint: string, o: ShipOptions): Promise<ShipChild> {
  const main = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  const child = spawn(process.execPath, [main, ...args(mountpoint, o)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 4096) err = err.slice(-4096);
  });
  return new Promise<ShipChild>((resolve, reject) => {
    child.stdout.once('data', () => {
      // Ready: from now on the child runs on its own and must not keep the application alive.
      child.unref();
      child.stdout.destroy();
      (child.stderr as unknown as { unref?(): void }).unref?.();
      resolve({
        pid: child.pid ?? 0,
        async stop(ms = 15_000) {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.ref(); // the application waits for it now
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), ms);
          await exited;
          clearTimeout(t);
        },
      });
    });
    void exited.then(() => reject(new Error(`ntrace ship could not start: ${err.trim() || `exit ${child.exitCode}`}`)));
  });
}
