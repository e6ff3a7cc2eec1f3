/**
 * The serving loop's own cost per request, without the kernel: the FUSE server runs on this thread over the bench
 * tree, reading a recorded request stream from a file (framed, as through the unprivileged relay: two small reads
 * per request) and writing its replies to /dev/null. What remains is JS (decode, kernfs, encode) plus the syscalls,
 * free of the scheduling noise of real round trips, so it shows what a change to the request path is worth.
 * Besides wall time it reports the process's CPU time per request, which other load on the machine disturbs less.
 *
 * Streams (after INIT and a LOOKUP of every directory), per file of the tree:
 *   stat: LOOKUP + GETATTR + FORGET (11,822 files)
 *   cat:  LOOKUP + GETATTR + OPEN + READ + READ at EOF + RELEASE + FORGET (every events/<sys>/<event>/id)
 *
 *   node dist/bench/fuse-metadata/dispatch.js [--runs N] [--json]
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { VfsEnv } from '../../src/fuse/index.js';
import { IN_HEADER_SIZE, MAX_MINOR, Op } from '../../src/fuse/protocol.js';
import { FuseServer, STAT_SLOTS } from '../../src/fuse/server.js';
import type { Kernfs } from '../../src/kernfs/index.js';
import type { OpContext } from '../../src/kernfs/vfs.js';
import { kernelEventsPath } from '../../test/support/paths.js';
import { median } from '../support/stats.js';
import { createVfs, EVENT_FILES, SYSTEM_FILES, TOP_FILES } from './tree.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const runs = Number(args[args.indexOf('--runs') + 1]) || 7;

const env: VfsEnv = {
  doorbell: new SharedArrayBuffer(4),
  doorbellIndex: 0,
  ring: () => {},
  onWake: () => () => {},
  onMessage: () => () => {},
  invalidationsSent: () => Promise.resolve(),
  postMessage: () => {},
};
const cache = { entryValidMs: 3_600_000, attrValidMs: 3_600_000 };
const rootCtx: OpContext = { cred: { uid: 0, gid: 0, pid: 0, groups: [] } };

/** Builds request messages into one growing byte stream. */
class Stream {
  private readonly chunks: Buffer[] = [];
  private unique = 1;
  count = 0;

  private push(opcode: number, nodeid: number, body: Buffer): void {
    const h = Buffer.alloc(IN_HEADER_SIZE);
    h.writeUInt32LE(IN_HEADER_SIZE + body.length, 0);
    h.writeUInt32LE(opcode, 4);
    h.writeBigUInt64LE(BigInt(this.unique++), 8);
    h.writeBigUInt64LE(BigInt(nodeid), 16);
    h.writeUInt32LE(0, 24); // uid root, like the benchmark's shell
    h.writeUInt32LE(0, 28);
    h.writeUInt32LE(4242, 32); // pid
    this.chunks.push(h, body);
    this.count++;
  }

  init(): void {
    const b = Buffer.alloc(64);
    b.writeUInt32LE(7, 0);
    b.writeUInt32LE(MAX_MINOR, 4);
    b.writeUInt32LE(131072, 8);
    b.writeUInt32LE(0xffffffff, 12);
    this.push(Op.INIT, 0, b);
  }

  lookup(parent: number, name: string): void {
    this.push(Op.LOOKUP, parent, Buffer.from(`${name}\0`));
  }

  forget(ino: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(1n, 0);
    this.push(Op.FORGET, ino, b);
  }

  getattr(ino: number): void {
    this.push(Op.GETATTR, ino, Buffer.alloc(16));
  }

  open(ino: number): void {
    this.push(Op.OPEN, ino, Buffer.alloc(8)); // O_RDONLY
  }

  read(ino: number, fh: number, offset: number): void {
    const b = Buffer.alloc(40);
    b.writeBigUInt64LE(BigInt(fh), 0);
    b.writeBigUInt64LE(BigInt(offset), 8);
    b.writeUInt32LE(131072, 16);
    this.push(Op.READ, ino, b);
  }

  release(ino: number, fh: number): void {
    const b = Buffer.alloc(24);
    b.writeBigUInt64LE(BigInt(fh), 0);
    this.push(Op.RELEASE, ino, b);
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Inode numbers of the tree's directories and files, learnt from a twin tree (slot allocation is deterministic). */
function layout(tree: Kernfs, spec: { systems: { name: string; events: { name: string }[] }[] }) {
  const ino = (parent: number, name: string): number => {
    const e = tree.lookup(parent, name, rootCtx);
    tree.forget(e.ino, 1);
    return e.ino;
  };
  const events = ino(1, 'events');
  tree.lookup(1, 'events', rootCtx);
  return {
    events,
    top: TOP_FILES.map((f) => ino(events, f)),
    systems: spec.systems.map((s) => {
      const sys = ino(events, s.name);
      tree.lookup(events, s.name, rootCtx); // keep it held while its children are looked up
      const r = {
        name: s.name,
        ino: sys,
        files: SYSTEM_FILES.map((f) => ino(sys, f)),
        events: s.events.map((ev) => {
          const dir = ino(sys, ev.name);
          tree.lookup(sys, ev.name, rootCtx);
          const files = EVENT_FILES.map((f) => ino(dir, f));
          return { name: ev.name, ino: dir, files };
        }),
      };
      return r;
    }),
  };
}

function streams(tree: Kernfs, spec: Parameters<typeof layout>[1]): { stat: Stream; cat: Stream } {
  const l = layout(tree, spec);
  const prelude = (s: Stream) => {
    s.init();
    s.lookup(1, 'events');
    for (const sys of l.systems) {
      s.lookup(l.events, sys.name);
      for (const ev of sys.events) s.lookup(sys.ino, ev.name);
    }
  };
  const stat = new Stream();
  prelude(stat);
  const statFile = (dir: number, name: string, ino: number) => {
    stat.lookup(dir, name);
    stat.getattr(ino);
    stat.forget(ino);
  };
  const statAll = (dir: number, names: readonly string[], inos: readonly number[]) => {
    for (let i = 0; i < names.length; i++) statFile(dir, names[i], inos[i]);
  };
  statAll(l.events, TOP_FILES, l.top);
  for (const sys of l.systems) {
    statAll(sys.ino, SYSTEM_FILES, sys.files);
    for (const ev of sys.events) statAll(ev.ino, EVENT_FILES, ev.files);
  }
  const cat = new Stream();
  prelude(cat);
  const idIndex = EVENT_FILES.indexOf('id');
  let fh = 1; // kernfs hands out handles from 1, one per open (no directory handles in these streams)
  for (const sys of l.systems) {
    for (const ev of sys.events) {
      const ino = ev.files[idIndex];
      cat.lookup(ev.ino, 'id');
      cat.getattr(ino);
      cat.open(ino);
      cat.read(ino, fh, 0);
      cat.read(ino, fh, 16); // cat's second read(2), at EOF
      cat.release(ino, fh);
      cat.forget(ino);
      fh++;
    }
  }
  return { stat, cat };
}

async function serveOnce(
  file: string,
  devNull: number,
  heldDirs: number,
): Promise<{ ms: number; cpuMs: number; errors: number }> {
  const spec = { eventsPath: kernelEventsPath, cache };
  const tree = createVfs(spec, env);
  const readFd = openSync(file, 'r');
  const stats = new SharedArrayBuffer(STAT_SLOTS * 8);
  const server = new FuseServer(
    { readFd, writeFd: devNull, framed: true },
    tree,
    { maxWrite: 131072, rootAttrValidMs: 1000, dirCache: true },
    { initialized: () => {}, woken: () => {}, notifyOffThread: () => {} },
    new SharedArrayBuffer(16),
    stats,
  );
  const t = performance.now();
  const cpu = process.cpuUsage();
  await server.run();
  const ms = performance.now() - t;
  const used = process.cpuUsage(cpu);
  closeSync(readFd);
  // Every request must have been served: besides the root, only the prelude's directories stay held (they are
  // never forgotten); a file left over would mean a failed lookup or forget.
  return { ms, cpuMs: (used.user + used.system) / 1000, errors: tree.liveInodes() - 1 - heldDirs };
}

async function main(): Promise<void> {
  const { readFileSync } = await import('node:fs');
  const spec = JSON.parse(readFileSync(kernelEventsPath, 'utf8'));
  // events/, every system directory and every event directory.
  const heldDirs =
    1 + spec.systems.length + spec.systems.reduce((n: number, sys: { events: unknown[] }) => n + sys.events.length, 0);
  const { stat, cat } = streams(createVfs({ eventsPath: kernelEventsPath, cache }, env), spec);
  const dir = mkdtempSync(join(tmpdir(), 'ntrace-bench-dispatch-'));
  const devNull = openSync('/dev/null', 'w');
  const out: Record<string, { requests: number; nsPerRequest: number; cpuNsPerRequest: number }> = {};
  try {
    for (const [name, s] of Object.entries({ stat, cat })) {
      const file = join(dir, `${name}.bin`);
      writeFileSync(file, s.bytes());
      const ns: number[] = [];
      const cpuNs: number[] = [];
      await serveOnce(file, devNull, heldDirs); // warm-up: JIT
      for (let i = 0; i < runs; i++) {
        const r = await serveOnce(file, devNull, heldDirs);
        if (r.errors !== 0) throw new Error(`${name}: ${r.errors} inodes left held: requests failed`);
        ns.push((r.ms * 1e6) / s.count);
        cpuNs.push((r.cpuMs * 1e6) / s.count);
      }
      out[name] = {
        requests: s.count,
        nsPerRequest: Math.round(median(ns)),
        cpuNsPerRequest: Math.round(median(cpuNs)),
      };
      if (!json) {
        process.stdout.write(
          `${name.padEnd(5)} ${s.count} requests: median ${(median(ns) / 1000).toFixed(2)} µs/request, CPU ${(median(cpuNs) / 1000).toFixed(2)} µs/request (runs: ${ns.map((x) => (x / 1000).toFixed(2)).join(' ')})\n`,
        );
      }
    }
  } finally {
    closeSync(devNull);
    rmSync(dir, { recursive: true, force: true });
  }
  if (json) process.stdout.write(`${JSON.stringify({ runs, dispatch: out })}\n`);
}

await main();
