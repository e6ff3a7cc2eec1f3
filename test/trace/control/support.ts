/**
 * Helpers for the control plane tests: agent workers (see fixtures/agent.ts), an instance with an agent cleaned up
 * after the test, the status events most tests define, and reading an instance's records.
 */
import type { TestContext } from 'node:test';
import { Worker } from 'node:worker_threads';
import { defineEvent } from '../../../src/index.js';
import { createInstance, destroyInstance, getEvent, TraceIterator } from '../../../src/trace/engine.js';
import { eventEnableText } from '../../../src/tracefs/eventfs.js';
import type { TraceInstance } from '../../../src/tracefs/state.js';
import { type Decoded, decode } from '../engine/support.js';

export class Agent {
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly ready: Promise<void>;

  constructor(readonly worker: Worker) {
    this.ready = new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.on('message', (m: { seq: number; ok: boolean; value?: unknown; error?: string } | 'ready') => {
        if (m === 'ready') {
          resolve();
          return;
        }
        const p = this.pending.get(m.seq);
        this.pending.delete(m.seq);
        if (m.ok) p?.resolve(m.value);
        else p?.reject(new Error(m.error));
      });
    });
  }

  static async start(name: string): Promise<Agent> {
    const a = new Agent(new Worker(new URL('./fixtures/agent.js', import.meta.url), { name }));
    await a.ready;
    return a;
  }

  send<T = unknown>(cmd: Record<string, unknown>): Promise<T> {
    const seq = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ seq, cmd });
    });
  }

  define(system: string, name: string, fields: Record<string, string>): Promise<number> {
    return this.send({ op: 'define', system, name, fields });
  }

  emit(system: string, name: string, values: Record<string, unknown>[], times = 1): Promise<boolean> {
    return this.send({ op: 'emit', system, name, values, times });
  }

  /** A control plane call in this worker; the string '$log' in args stands for a collecting error log. */
  control<T = unknown>(fn: string, ...args: unknown[]): Promise<{ result: T; log: unknown[] }> {
    return this.send({ op: 'control', fn, args });
  }

  engine<T = unknown>(fn: string, ...args: unknown[]): Promise<T> {
    return this.send({ op: 'engine', fn, args });
  }

  stop(): Promise<number> {
    return this.worker.terminate();
  }
}

/** Decoded payloads of every record of event `id` in the instance. */
export function recordsOf(instance: number, id: number): Decoded[] {
  const out: Decoded[] = [];
  for (const r of new TraceIterator(instance)) {
    if (r.id !== id) continue;
    out.push(decode(getEvent(id)!.layout, r.data));
  }
  return out;
}

/** A new instance and one agent worker; the agent is stopped, then the instance destroyed, when the test ends. */
export async function instanceWithAgent(
  t: TestContext,
  instanceName: string,
  agentName = 'app',
): Promise<{ inst: number; app: Agent }> {
  const inst = createInstance(instanceName);
  let app: Agent | undefined;
  t.after(async () => {
    await app?.stop();
    destroyInstance(inst);
  });
  app = await Agent.start(agentName);
  return { inst, app };
}

/** Fields of the filter and trigger tests' events: a status to filter on and a sequence number. */
export const STATUS_FIELDS = { status: 'u16', n: 'u32' } as const;

/** Events `names` of `system`, all with STATUS_FIELDS, defined in this thread. */
export function defineStatusEvents(system: string, ...names: string[]) {
  return names.map((name) => defineEvent(system, name, STATUS_FIELDS));
}

/** The event's `enable` file as tracefs shows it (`0`, `1`, `0*`, `1*`), from the engine's state bits. */
export function enableFile(instance: number, id: number): string {
  return eventEnableText({ index: instance } as TraceInstance, id);
}
