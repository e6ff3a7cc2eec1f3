/** Shared fixtures for kernfs tests: callers, listing helpers and an eventfs-like tree. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { DirNode, Kernfs, TemplateFileSpec, TemplateTable } from '../../src/kernfs/index.js';
import { FsError } from '../../src/kernfs/index.js';
import type { DirEntry, OpContext } from '../../src/kernfs/vfs.js';
import { kernelEventsPath } from '../support/paths.js';

export function ctxOf(uid = 0, gid = 0, groups: number[] = [], signal?: AbortSignal): OpContext {
  return { cred: { uid, gid, pid: 4242, groups }, signal };
}

export const ROOT = ctxOf(0, 0);

/** Assert that `fn` throws (or rejects with) an FsError carrying `code`. */
export async function assertErrno(fn: () => unknown, code: string): Promise<void> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof FsError, `expected FsError ${code}, got ${String(err)}`);
    assert.equal(err.code, code);
    return;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

/** Synchronous version, for operations that must fail before returning. */
export function throwsErrno(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => err instanceof FsError && err.code === code);
}

/** Every entry of a directory, read in one go. */
export function listAll(fs: Kernfs, ino: number, ctx = ROOT): DirEntry[] {
  const dh = fs.opendir(ino, ctx) as number;
  const out: DirEntry[] = [];
  fs.readdir(
    dh,
    0,
    (e) => {
      out.push(e);
      return true;
    },
    ctx,
  );
  fs.releasedir(dh);
  return out;
}

export function names(entries: readonly DirEntry[]): string[] {
  return entries.map((e) => e.name);
}

/** lookup by path from the root, returning the inode number; every step counts one lookup. */
export function lookupPath(fs: Kernfs, path: string, ctx = ROOT): number {
  let ino = 1;
  for (const part of path.split('/').filter(Boolean)) ino = (fs.lookup(ino, part, ctx) as { ino: number }).ino;
  return ino;
}

export const decoder = new TextDecoder();
export const encoder = new TextEncoder();

/** Event directory data as eventfs keeps it. */
export interface EventData {
  readonly system: string;
  readonly name: string;
  readonly id: number;
}

const EVENT_FILES = ['enable', 'filter', 'trigger', 'format', 'id', 'hist', 'inject'] as const;

function eventFile(name: string, data: EventData): TemplateFileSpec | null {
  // Like eventfs: ftrace's internal events have no enable/filter/trigger.
  if (data.system === 'ftrace' && (name === 'enable' || name === 'filter' || name === 'trigger')) return null;
  const readOnly = name === 'format' || name === 'id';
  return {
    mode: readOnly ? 0o440 : name === 'inject' ? 0o200 : 0o640,
    ops:
      name === 'inject'
        ? { write: () => undefined }
        : { show: () => (name === 'id' ? `${data.id}\n` : `${name} of ${data.system}/${data.name}\n`) },
  };
}

export const EVENT_TABLE: TemplateTable<EventData> = Object.freeze(
  EVENT_FILES.map((name) => Object.freeze({ name, callback: eventFile })),
);

export const SYSTEM_TABLE: TemplateTable<{ readonly name: string }> = Object.freeze([
  Object.freeze({ name: 'enable', callback: () => ({ mode: 0o640, ops: { show: () => '0\n' } }) }),
  Object.freeze({ name: 'filter', callback: () => ({ mode: 0o640, ops: { show: () => 'none\n' } }) }),
]);

export interface KernelSpec {
  systems: { name: string; events: { name: string }[] }[];
}

export function kernelSpec(): KernelSpec {
  return JSON.parse(readFileSync(kernelEventsPath, 'utf8')) as KernelSpec;
}

/** events/<system>/<event>/{7 files}, built from a spec; returns the events directory. */
export function buildEvents(fs: Kernfs, parent: DirNode, spec: KernelSpec): DirNode {
  const events = fs.createDir(parent, 'events');
  let id = 1;
  for (const system of spec.systems) {
    const sys = fs.createTemplateDir(events, system.name, SYSTEM_TABLE, { name: system.name });
    for (const event of system.events) {
      fs.createTemplateDir(sys, event.name, EVENT_TABLE, { system: system.name, name: event.name, id: id++ });
    }
  }
  return events;
}
