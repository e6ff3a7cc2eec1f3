/**
 * The benchmark's tree, built inside the serving thread: an eventfs-like `events/` of the kernel's size
 * (test/fixtures/kernel-events.json) whose event directories are kernfs template directories, as tracefs's are.
 * Also answers wake-latency probes: when the mounting thread rings, the wake callback flips a shared flag back.
 */
import { readFileSync } from 'node:fs';
import type { VfsEnv } from '../../src/fuse/index.js';
import { type FileOps, Kernfs, type OpenedFile, type TemplateTable } from '../../src/kernfs/index.js';
import type { CacheHints } from '../../src/kernfs/vfs.js';

export interface BenchTreeData {
  readonly eventsPath: string;
  readonly cache?: CacheHints;
  /** Int32Array: [0] probe sequence the main thread asks for, [1] last sequence the wake callback answered. */
  readonly probe?: SharedArrayBuffer;
}

interface KernelEvents {
  systems: { name: string; events: { name: string; fields: { name: string; type: string }[] }[] }[];
}

interface EventData {
  readonly id: number;
  readonly system: string;
  readonly name: string;
  readonly fields: readonly { name: string; type: string }[];
}

function format(d: EventData): string {
  let s = `name: ${d.name}\nID: ${d.id}\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n`;
  for (const f of d.fields) s += `\tfield:${f.type} ${f.name};\n`;
  return `${s}\nprint fmt: ""\n`;
}

/** The files of every event directory, in the kernel's order. Kept in one place: the peer's path list uses it. */
export const EVENT_FILES = ['enable', 'filter', 'format', 'id', 'trigger'] as const;
export const SYSTEM_FILES = ['enable', 'filter'] as const;
export const TOP_FILES = ['enable', 'header_event', 'header_page'] as const;

const eventOf = (f: OpenedFile): EventData => f.node.priv as EventData;
const enableOps: FileOps = { show: () => '0\n', write: () => undefined };
const filterOps: FileOps = { show: () => 'none\n', write: () => undefined };
const formatOps: FileOps = { show: (f) => format(eventOf(f)) };
const idOps: FileOps = { show: (f) => `${eventOf(f).id}\n` };
const triggerOps: FileOps = { show: () => '# Available triggers:\n', write: () => undefined };

// Shared by every event directory; ops objects are shared too, so a lookup allocates only the spec.
const table: TemplateTable<EventData> = Object.freeze([
  { name: 'enable', callback: (_n: string, d: EventData) => ({ mode: 0o640, priv: d, ops: enableOps }) },
  { name: 'filter', callback: (_n: string, d: EventData) => ({ mode: 0o640, priv: d, ops: filterOps }) },
  { name: 'format', callback: (_n: string, d: EventData) => ({ mode: 0o440, priv: d, ops: formatOps }) },
  { name: 'id', callback: (_n: string, d: EventData) => ({ mode: 0o440, priv: d, ops: idOps }) },
  { name: 'trigger', callback: (_n: string, d: EventData) => ({ mode: 0o640, priv: d, ops: triggerOps }) },
]);

export function createVfs(data: BenchTreeData, env: VfsEnv): Kernfs {
  const spec = JSON.parse(readFileSync(data.eventsPath, 'utf8')) as KernelEvents;
  const tree = new Kernfs(data.cache ? { cache: data.cache } : {});
  const events = tree.createDir(tree.root, 'events');
  const show = (text: string) => ({ show: () => text });
  tree.createFile(events, 'enable', { ...show('0\n'), write: () => undefined }, { mode: 0o640 });
  tree.createFile(events, 'header_event', show('# compressed entry header\n'), { mode: 0o440 });
  tree.createFile(events, 'header_page', show('\tfield: u64 timestamp;\n'), { mode: 0o440 });
  let id = 1;
  for (const sys of spec.systems) {
    const dir = tree.createDir(events, sys.name);
    tree.createFile(dir, 'enable', { ...show('0\n'), write: () => undefined }, { mode: 0o640 });
    tree.createFile(dir, 'filter', { ...show('none\n'), write: () => undefined }, { mode: 0o640 });
    for (const ev of sys.events) {
      tree.createTemplateDir(dir, ev.name, table, { id: id++, system: sys.name, name: ev.name, fields: ev.fields });
    }
  }
  if (data.probe) {
    const words = new Int32Array(data.probe);
    env.onWake(() => {
      Atomics.store(words, 1, Atomics.load(words, 0));
      Atomics.notify(words, 1);
    });
  }
  return tree;
}

/** The same tree as a path list relative to events/, for the libfuse peer. */
export function pathList(eventsPath: string): string[] {
  const spec = JSON.parse(readFileSync(eventsPath, 'utf8')) as KernelEvents;
  const out: string[] = [...TOP_FILES];
  for (const sys of spec.systems) {
    for (const f of SYSTEM_FILES) out.push(`${sys.name}/${f}`);
    for (const ev of sys.events) for (const f of EVENT_FILES) out.push(`${sys.name}/${ev.name}/${f}`);
  }
  return out;
}
