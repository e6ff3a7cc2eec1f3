/**
 * `ntrace ls`: the live ntrace processes of this user, from the discovery index (stale entries pruned on the way),
 * with what each one records right now (the events enabled in its top level and its instances).
 */
import { readdirSync } from 'node:fs';
import { openTarget } from '../client/index.js';
import { type DiscoveryEntry, listLive } from '../discovery/index.js';

export function formatUptime(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

function threadCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/task`).length;
  } catch {
    return 0;
  }
}

/** `set_event` of the top level and every instance, deduplicated. */
async function enabledEvents(where: string): Promise<string[]> {
  const tree = await openTarget(where);
  const text = async (p: string) => Buffer.from(await tree.readFile(p)).toString('utf8');
  const found = new Set<string>();
  const files = ['set_event'];
  for (const e of await tree.readdir('instances').catch(() => [])) files.push(`instances/${e.name}/set_event`);
  for (const f of files) {
    for (const line of (await text(f).catch(() => '')).split('\n')) if (line !== '') found.add(line);
  }
  await tree.close();
  return [...found];
}

/** `sys:event` when one event of a system is on, `sys(N)` when N are: a row stays readable with many enabled. */
export function summarizeEvents(events: readonly string[]): string {
  const bySystem = new Map<string, string[]>();
  for (const e of events) {
    const [system, name = ''] = e.split(':');
    bySystem.set(system, [...(bySystem.get(system) ?? []), name]);
  }
  const parts = [...bySystem].map(([system, names]) =>
    names.length === 1 ? `${system}:${names[0]}` : `${system}(${names.length})`,
  );
  return parts.length === 0 ? '-' : parts.join(',');
}

async function row(e: DiscoveryEntry): Promise<string[]> {
  const where = e.mount ?? e.socket;
  const events = where ? await enabledEvents(where).catch(() => []) : [];
  return [
    String(e.pid),
    formatUptime(Date.now() - e.startedAt),
    String(threadCount(e.pid)),
    e.mount ?? e.socket ?? '-',
    summarizeEvents(events),
    e.argv.join(' '),
  ];
}

export async function runLs(): Promise<number> {
  const rows = [['PID', 'UPTIME', 'THREADS', 'MOUNT', 'ENABLED', 'COMMAND']];
  for (const e of listLive()) rows.push(await row(e));
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows)
    process.stdout.write(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')}\n`);
  return 0;
}
