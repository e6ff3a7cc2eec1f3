/** node_process: child processes and worker threads this thread starts. */
import type { ChildProcess } from 'node:child_process';
import type { Worker } from 'node:worker_threads';
import { defineEvent } from '../trace/index.js';
import { channelSource, nodeAtLeast, type Source, str } from './source.js';

/** Longest command line kept in `child_process.args` (bytes of the joined arguments). */
export const ARGS_MAX = 256;

export function processSources(): Source[] {
  const child = defineEvent(
    'node_process',
    'child_process',
    { pid: 'u32', file: 'string', args: 'string' },
    { print: 'pid=%u file=%s args=%s' },
  );
  const worker = defineEvent('node_process', 'worker', { thread_id: 'u32' }, { print: 'thread_id=%u' });
  const sources: Source[] = [];
  // process.execve (Node 22.15+ / 23.11+): recorded as the process is about to be replaced.
  if (nodeAtLeast(22, 15)) {
    const execve = defineEvent(
      'node_process',
      'execve',
      { file: 'string', args: 'string' },
      { print: 'file=%s args=%s' },
    );
    sources.push(
      channelSource([execve], {
        execve: (m) => {
          const { execPath, args } = m as { execPath?: unknown; args?: unknown };
          if (execve.enabled)
            execve.emit({
              file: str(execPath),
              args: (Array.isArray(args) ? args.join(' ') : '').slice(0, ARGS_MAX),
            });
        },
      }),
    );
  }
  return [
    ...sources,
    channelSource([child], {
      // Published as the ChildProcess is constructed, before it has a pid: recorded once it has spawned.
      child_process: (m) => {
        const { process: p } = m as { process: ChildProcess & { spawnfile?: string } };
        p.once('spawn', () => {
          if (child.enabled)
            child.emit({
              pid: p.pid ?? 0,
              file: str(p.spawnfile),
              args: (p.spawnargs ?? []).join(' ').slice(0, ARGS_MAX),
            });
        });
      },
    }),
    channelSource([worker], {
      worker_threads: (m) => {
        const { worker: w } = m as { worker: Worker };
        if (worker.enabled) worker.emit({ thread_id: w.threadId });
      },
    }),
  ];
}
