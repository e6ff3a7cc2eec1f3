/**
 * kernfs memory: what the kernel-sized events tree costs at rest, with lookups held, and after forgetting, built with
 * template directories; then the same tree built the one-node-per-file way, in the same run.
 *
 *   npm run bench:kernfs-memory [-- --json]
 *
 * Heap figures are V8's used heap after forced full GCs. The object count comes from a heap snapshot: objects whose
 * constructor is one of kernfs's per-node classes.
 */
import { readFileSync } from 'node:fs';
import { getHeapSnapshot, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createKernfs, type Kernfs, type TemplateFileSpec, type TemplateTable } from '../../src/kernfs/index.js';
import type { Entry, OpContext } from '../../src/kernfs/vfs.js';
import { kernelEventsPath } from '../../test/support/paths.js';

interface SpecEvent {
  readonly name: string;
}
interface SpecSystem {
  readonly name: string;
  readonly events: readonly SpecEvent[];
}
interface Spec {
  readonly systems: readonly SpecSystem[];
}

const json = process.argv.includes('--json');
const gc = obtainGc();

function obtainGc(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Used heap after full GCs. Readings now and then carry a transient extra ~160 KiB; the least of a few is exact. */
function heapUsed(): number {
  let least = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 4; round++) {
    gc();
    gc();
    least = Math.min(least, getHeapStatistics().used_heap_size);
  }
  return least;
}

// The event directory table, as eventfs has it. Specs are built once per row (ops shared by every directory), so both
// ways of building the tree share them and the comparison is about the tree, not about closures.
const EVENT_FILES = ['enable', 'filter', 'trigger', 'format', 'id', 'hist', 'inject'] as const;
const show = (): string => '';
const write = (): undefined => undefined;
const SPECS = new Map<string, TemplateFileSpec>(
  EVENT_FILES.map((name) => {
    const readOnly = name === 'format' || name === 'id';
    const ops = name === 'inject' ? { write } : readOnly ? { show } : { show, write };
    return [name, Object.freeze({ mode: readOnly ? 0o440 : name === 'inject' ? 0o200 : 0o640, ops })];
  }),
);
interface EventData {
  readonly system: SpecSystem;
  readonly event: SpecEvent;
}
function eventFile(name: string, _data: EventData): TemplateFileSpec | null {
  return SPECS.get(name) ?? null;
}
const EVENT_TABLE: TemplateTable<EventData> = Object.freeze(
  EVENT_FILES.map((name) => Object.freeze({ name, callback: eventFile })),
);
const SYSTEM_TABLE: TemplateTable<SpecSystem> = Object.freeze(
  ['enable', 'filter'].map((name) => Object.freeze({ name, callback: () => SPECS.get(name)! })),
);

/**
 * Directory data: the engine already holds one descriptor per event; tracefs passes it. Here the spec's objects play
 * that role, so `data` costs nothing beyond what exists anyway. The pairs are built before measuring.
 */
function eventData(spec: Spec): EventData[][] {
  return spec.systems.map((system) => system.events.map((event) => Object.freeze({ system, event })));
}

function buildSystems(fs: Kernfs, spec: Spec, table: TemplateTable<SpecSystem> = SYSTEM_TABLE) {
  const events = fs.createDir(fs.root, 'events');
  return spec.systems.map((s) => fs.createTemplateDir(events, s.name, table, s));
}

function buildTemplateTree(
  fs: Kernfs,
  spec: Spec,
  data: EventData[][],
  tables: readonly TemplateTable<never>[] = [SYSTEM_TABLE, EVENT_TABLE],
): void {
  const systems = buildSystems(fs, spec, tables[0] as TemplateTable<SpecSystem>);
  spec.systems.forEach((s, i) => {
    s.events.forEach((e, j) => {
      fs.createTemplateDir(systems[i], e.name, tables[1] as TemplateTable<EventData>, data[i][j]);
    });
  });
}

/** The same directories with tables that have no rows: what the tree would cost without a single file. */
const NO_FILES: TemplateTable<never> = Object.freeze([]);

/** Linux kernfs's way: an object per file. */
function buildOneNodePerFile(fs: Kernfs, spec: Spec, data: EventData[][]): void {
  const events = fs.createDir(fs.root, 'events');
  spec.systems.forEach((s, i) => {
    const sys = fs.createDir(events, s.name, { priv: s });
    for (const row of SYSTEM_TABLE) {
      const f = row.callback(row.name, s)!;
      fs.createFile(sys, row.name, f.ops, { mode: f.mode, priv: f.priv });
    }
    s.events.forEach((e, j) => {
      const dir = fs.createDir(sys, e.name, { priv: data[i][j] });
      for (const row of EVENT_TABLE) {
        const f = row.callback(row.name, data[i][j]);
        if (f) fs.createFile(dir, row.name, f.ops, { mode: f.mode, priv: f.priv });
      }
    });
  });
}

const ROOT_CTX: OpContext = { cred: { uid: 0, gid: 0, pid: 1, groups: [] } };

/** lookup + getattr every entry (as `find -ls` would); returns [ino, lookups] for the later forget. */
function lookupEverything(fs: Kernfs): Map<number, number> {
  const held = new Map<number, number>();
  const walk = (ino: number): void => {
    const names: string[] = [];
    const dh = fs.opendir(ino, ROOT_CTX) as number;
    fs.readdir(
      dh,
      0,
      (e) => {
        if (e.name !== '.' && e.name !== '..') names.push(e.name);
        return true;
      },
      ROOT_CTX,
    );
    fs.releasedir(dh);
    for (const name of names) {
      const entry = fs.lookup(ino, name, ROOT_CTX) as Entry;
      fs.getattr(entry.ino, ROOT_CTX);
      held.set(entry.ino, (held.get(entry.ino) ?? 0) + 1);
      if (entry.attr.kind === 'dir') walk(entry.ino);
    }
  };
  walk(1);
  return held;
}

function forgetEverything(fs: Kernfs, held: Map<number, number>): void {
  for (const [ino, n] of held) fs.forget(ino, n);
}

/** JS-visible heap node types (what a program allocates; code and V8-internal nodes are left out). */
const JS_TYPES = ['object', 'array', 'string', 'closure', 'regexp', 'number', 'concatenated string', 'sliced string'];

/**
 * Count live objects per constructor name, for the given names, from a V8 heap snapshot; `total` counts every
 * JS-visible heap object.
 */
async function countObjects(names: readonly string[]): Promise<Record<string, number> & { total: number }> {
  const chunks: Buffer[] = [];
  for await (const chunk of getHeapSnapshot()) chunks.push(chunk as Buffer);
  const snap = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snap.snapshot.meta.node_fields;
  const stride = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const objectType = snap.snapshot.meta.node_types[0].indexOf('object');
  const wanted = new Map<number, string>();
  snap.strings.forEach((s, i) => {
    if (names.includes(s)) wanted.set(i, s);
  });
  const counts = Object.fromEntries(names.map((n) => [n, 0])) as Record<string, number> & { total: number };
  const jsTypes = new Set(JS_TYPES.map((t) => snap.snapshot.meta.node_types[0].indexOf(t)));
  let total = 0;
  const nodes = snap.nodes;
  for (let i = 0; i < nodes.length; i += stride) {
    if (jsTypes.has(nodes[i + typeAt])) total++;
    if (nodes[i + typeAt] !== objectType) continue;
    const name = wanted.get(nodes[i + nameAt]);
    if (name !== undefined) counts[name]++;
  }
  counts.total = total;
  return counts;
}

const PER_FILE_CLASSES = ['TemplateFile', 'FileNode', 'SymlinkNode', 'NodeAttrs', 'Inode', 'OpenFile'] as const;

/**
 * Run every code path at full size on throwaway trees first, so that compiled code and type feedback (which V8 keeps)
 * are in place before the first measurement and don't count as tree memory. A function of its own so that nothing
 * of it stays reachable from main's frame.
 */
function warmUp(spec: Spec): void {
  for (const build of [buildTemplateTree, buildOneNodePerFile]) {
    const w = createKernfs();
    build(w, spec, eventData(spec));
    buildTemplateTree(createKernfs(), spec, eventData(spec), [NO_FILES, NO_FILES]);
    for (let i = 0; i < 2; i++) forgetEverything(w, lookupEverything(w));
    countFiles(w);
  }
}

function loadSpec(): Spec {
  return JSON.parse(readFileSync(kernelEventsPath, 'utf8')) as Spec;
}

async function main(): Promise<void> {
  // V8 flushes bytecode of functions idle across a few GCs and tiers code up at unpredictable moments; both move the
  // used heap by 100+ KiB between two forced GCs. Off, the figures repeat to the byte. Object layout is unaffected.
  setFlagsFromString('--no-flush-bytecode');
  setFlagsFromString('--no-opt');
  const spec = loadSpec();
  const data = eventData(spec);
  const eventDirs = spec.systems.reduce((n, s) => n + s.events.length, 0);
  warmUp(spec);

  // 1. The template tree at rest.
  let fs: Kernfs | null = createKernfs();
  const h0 = heapUsed();
  const systems = buildSystems(fs, spec);
  const h1 = heapUsed();
  spec.systems.forEach((s, i) => {
    s.events.forEach((e, j) => {
      fs!.createTemplateDir(systems[i], e.name, EVENT_TABLE, data[i][j]);
    });
  });
  const h2 = heapUsed();
  const treeBytes = h2 - h0;
  const eventFiles = eventDirs * EVENT_TABLE.length;
  const systemFiles = spec.systems.length * SYSTEM_TABLE.length;
  const files = eventFiles + systemFiles;

  // 2. Objects per file at rest, from a heap snapshot.
  const counts = await countObjects(['DirNode', ...PER_FILE_CLASSES]);
  const perFileObjects = PER_FILE_CLASSES.reduce((n, c) => n + counts[c], 0) - 1; // the root's Inode is permanent
  // Every JS object the files cost, whatever its class: grow the heap by the same directories without files, then
  // with them; the difference of the two growths is what the files themselves hold at rest. (A first copy is built
  // and snapshotted before, so that one-time allocations of the snapshot machinery fall outside both growths.)
  const extra = [createKernfs(), createKernfs(), createKernfs()];
  buildTemplateTree(extra[0], spec, data);
  const s1 = (await countObjects([])).total;
  buildTemplateTree(extra[1], spec, data, [NO_FILES, NO_FILES]);
  const s2 = (await countObjects([])).total;
  buildTemplateTree(extra[2], spec, data);
  const s3 = (await countObjects([])).total;
  const fileObjects = s3 - s2 - (s2 - s1);
  extra.length = 0;
  const inodesAtRest = fs.liveInodes();
  const hRest = heapUsed();

  // 3. Every file looked up and stat'ed, then all forgotten.
  const held = lookupEverything(fs);
  const inodesHeld = fs.liveInodes();
  const h3 = heapUsed();
  forgetEverything(fs, held);
  held.clear();
  const h4 = heapUsed();
  const inodesAfterForget = fs.liveInodes();
  if (inodesHeld !== inodesAtRest + files + eventDirs + systems.length + 1) throw new Error('not everything was seen');

  // 4. The same tree, one node per file.
  fs = null;
  const h5 = heapUsed();
  let naive: Kernfs | null = createKernfs();
  buildOneNodePerFile(naive, spec, data);
  const h6 = heapUsed();
  const naiveBytes = h6 - h5;
  if (countFiles(naive) !== files) throw new Error('the one-node-per-file tree differs');
  naive = null;

  const avgNameBytes =
    spec.systems.reduce((n, s) => n + s.events.reduce((m, e) => m + Buffer.byteLength(e.name), 0), 0) / eventDirs;
  const result = {
    eventDirs,
    systemDirs: spec.systems.length,
    files: eventFiles,
    systemFiles,
    heapBytesPerEventDir: Math.round((h2 - h1) / eventDirs),
    eventDirNameBytesAvg: Math.round(avgNameBytes * 10) / 10,
    objectsPerFileAtRest: perFileObjects / files,
    snapshotCounts: counts,
    heapObjectsPerFileAtRest: round4(fileObjects / files),
    templateTreeHeapBytes: treeBytes,
    heapAtRestBytes: hRest,
    heapAllLookedUpBytes: h3,
    bytesPerHeldInode: Math.round((h3 - hRest) / (inodesHeld - inodesAtRest)),
    heapAfterForgetBytes: h4,
    heapAfterForgetVsBefore: round4(h4 / hRest),
    treeHeapAfterForgetVsBefore: round4((h4 - h0) / (hRest - h0)),
    liveInodes: { atRest: inodesAtRest, allLookedUp: inodesHeld, afterForget: inodesAfterForget },
    oneNodePerFileHeapBytes: naiveBytes,
    oneNodePerFileHeapRatio: round4(naiveBytes / treeBytes),
  };
  if (json) {
    console.log(JSON.stringify(result));
    return;
  }
  const r = result;
  console.log(`kernfs memory: ${eventDirs} event dirs in ${r.systemDirs} systems, ${files} template files`);
  console.log(`  template tree at rest:     ${kib(treeBytes)}, ${r.heapBytesPerEventDir} B per event dir`);
  console.log(`    (event names, avg ${r.eventDirNameBytesAvg} B, are the engine's strings and not counted)`);
  console.log(`  objects per file at rest:  ${r.objectsPerFileAtRest} (snapshot: ${JSON.stringify(counts)})`);
  console.log(
    `  all JS heap objects:       ${r.heapObjectsPerFileAtRest} per file (${fileObjects} more than the same dirs without files)`,
  );
  console.log(`  all looked up + stat'ed:   +${kib(h3 - hRest)}, ${r.bytesPerHeldInode} B per held inode`);
  console.log(
    `  after forgetting all:      heap ${r.heapAfterForgetVsBefore}x of before (the tree's own share ${r.treeHeapAfterForgetVsBefore}x), live inodes ${inodesAfterForget}`,
  );
  console.log(`  one node per file:         ${kib(naiveBytes)} = ${r.oneNodePerFileHeapRatio}x the template tree`);
}

function countFiles(fs: Kernfs): number {
  let n = 0;
  const walk = (dir: { children: { byName: Map<string, unknown> } | null }): void => {
    for (const child of dir.children?.byName.values() ?? []) {
      if ((child as { ops?: unknown }).ops) n++;
      else if ((child as { children?: unknown }).children !== undefined) walk(child as typeof dir);
    }
  };
  walk(fs.root);
  return n;
}

function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

await main();
