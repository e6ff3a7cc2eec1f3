/**
 * The kernfs tree the FUSE tests mount (imported inside the serving thread by mountFuse):
 *
 *   hello        0444  "hello world\n"
 *   rw           0644  what was last written
 *   ro           0444  read-only (nobody may write it)
 *   constant     0444  constant content (ConstantOp): real size, kept in the page cache across opens
 *   big          0444  300 KiB of text
 *   wake-count   0444  how many doorbell wake-ups the tree saw
 *   shared       0444  the value of the shared counter (vfsData.shared) at the last wake-up
 *   pipe         0644  stream: reads park until data is written (or pushed by a message); pollable
 *   stall        0444  a read keeps the serving thread busy for 10 s (a request the server holds, unanswered)
 *   lent         0444  200 KiB of a byte pattern, each read written into the memory the transport lends, if any
 *   lent-reads   0444  how many reads of `lent` and `held` were lent memory
 *   held         0444  a read writes "held\n" into its lent memory at once, then parks until {type:'release-held'}
 *   dir/sub/leaf 0444
 *   link         -> dir/sub/leaf
 *   events/<sys>/<event>/{enable,id,format}   template directories, like eventfs
 *   instances/   mkdir/rmdir allowed here only
 *
 * Messages (FuseMount.post):
 *   {type:'push', text}            append to pipe
 *   {type:'mkdir', name}           create a directory at the root from the tree's side
 *   {type:'chmod', path, mode}     chmod from the tree's side
 *   {type:'mkdir-sync' | 'chmod-sync', ...}  the same, answered with {type} once the kernel has the invalidation
 *   {type:'live'}                  answered with {type:'live', n: liveInodes()}
 *   {type:'release-held'}          answer the parked reads of `held`
 */

import type { VfsEnv } from '../../src/fuse/index.js';
import {
  type DirNode,
  type FileOps,
  FsError,
  Kernfs,
  type OpContext,
  type OpenedFile,
  POLLIN,
  POLLRDNORM,
  type TemplateTable,
} from '../../src/kernfs/index.js';

export interface FixtureData {
  readonly owner?: { uid: number; gid: number };
  /** Int32Array(1) the tests bump before ringing the doorbell from another thread. */
  readonly shared?: SharedArrayBuffer;
  readonly systems?: number;
  readonly eventsPerSystem?: number;
}

const text = new TextEncoder();

/** The `lent` file: LENT_SIZE bytes, byte i being lentByte(i). */
export const LENT_SIZE = 200 * 1024;
export function lentByte(i: number): number {
  return 0x61 + ((i * 7 + (i >> 10)) % 26);
}

export function createVfs(given: FixtureData | undefined, env: VfsEnv): Kernfs {
  const data = given ?? {};
  const tree: Kernfs = new Kernfs({
    uid: data.owner?.uid ?? 0,
    gid: data.owner?.gid ?? 0,
    hooks: {
      mkdir(parent, name, mode): DirNode {
        if (parent !== instances) throw new FsError('EPERM');
        return tree.createDir(parent, name, { mode });
      },
      rmdir(node): Promise<void> {
        if (node.parent !== instances) throw new FsError('EPERM');
        return tree.remove(node);
      },
    },
  });
  const root = tree.root;
  tree.createFile(root, 'hello', { show: () => 'hello world\n' }, { mode: 0o444 });
  let rwValue = 'initial\n';
  tree.createFile(
    root,
    'rw',
    {
      show: () => rwValue,
      open: (file) => {
        if (file.flags & 0o1000) rwValue = ''; // O_TRUNC
      },
      write: (_file, bytes) => {
        rwValue += Buffer.from(bytes).toString('utf8');
        return undefined;
      },
    },
    { mode: 0o644 },
  );
  tree.createFile(root, 'ro', { show: () => 'read only\n' }, { mode: 0o444 });
  tree.createFile(root, 'constant', { constant: () => 'the same for the life of the node\n' }, { mode: 0o444 });
  // Larger than one reply buffer (128 KiB + headers): replies go out as one writev.
  const big = Buffer.alloc(300 * 1024, 'abcdefghijklmnopqrstuvwxyz0123456789\n');
  tree.createFile(root, 'big', { show: () => big }, { mode: 0o444 });
  let wakes = 0;
  let sharedSeen = 0;
  const shared = data.shared ? new Int32Array(data.shared) : undefined;
  tree.createFile(root, 'wake-count', { show: () => `${wakes}\n` }, { mode: 0o444 });
  tree.createFile(root, 'shared', { show: () => `${sharedSeen}\n` }, { mode: 0o444 });
  tree.createFile(
    root,
    'stall',
    {
      show: () => {
        const until = Date.now() + 10_000;
        while (Date.now() < until) {}
        return 'stalled\n';
      },
    },
    { mode: 0o444 },
  );

  // Reads answered in the memory the transport lends (ctx.replyBuffer), else in memory of their own.
  let lentReads = 0;
  const lentInto = (ctx: OpContext, size: number): Uint8Array => {
    if (ctx.replyBuffer === undefined) return new Uint8Array(size);
    lentReads++;
    return ctx.replyBuffer;
  };
  tree.createFile(
    root,
    'lent',
    {
      read(_file, offset, size, ctx) {
        const n = Math.max(0, Math.min(size, LENT_SIZE - offset));
        const out = lentInto(ctx, n);
        for (let i = 0; i < n; i++) out[i] = lentByte(offset + i);
        return out.subarray(0, n);
      },
    },
    { mode: 0o444 },
  );
  tree.createFile(root, 'lent-reads', { show: () => `${lentReads}\n` }, { mode: 0o444 });
  const held = new Set<() => void>();
  tree.createFile(
    root,
    'held',
    {
      read(_file, offset, size, ctx) {
        if (offset > 0) return new Uint8Array(0);
        const out = lentInto(ctx, size);
        const answer = text.encode('held\n');
        const n = Math.min(out.length, answer.length);
        out.set(answer.subarray(0, n));
        // The answer is in the lent memory already; it is sent when released, after other reads were answered.
        return new Promise<Uint8Array>((resolve) => held.add(() => resolve(out.subarray(0, n))));
      },
    },
    { mode: 0o444 },
  );

  // A pipe: reads wait for data; an interrupted reader's Promise rejects through ctx.signal.
  const chunks: Buffer[] = [];
  const waiters = new Set<() => void>();
  const pipeOps: FileOps = {
    stream: true,
    read(_file: OpenedFile, _offset, size, ctx) {
      const take = (): Uint8Array => {
        const all = Buffer.concat(chunks.splice(0));
        if (all.length > size) chunks.push(all.subarray(size));
        return all.subarray(0, size);
      };
      if (chunks.length > 0) return take();
      return new Promise<Uint8Array>((resolve, reject) => {
        const ready = () => {
          waiters.delete(ready);
          resolve(take());
        };
        waiters.add(ready);
        ctx.signal?.addEventListener('abort', () => {
          waiters.delete(ready);
          reject(new FsError('EINTR'));
        });
      });
    },
    write(_file, bytes) {
      push(Buffer.from(bytes));
      return undefined;
    },
    poll: () => (chunks.length > 0 ? POLLIN | POLLRDNORM : 0),
  };
  const pipe = tree.createFile(root, 'pipe', pipeOps, { mode: 0o644 });
  function push(b: Buffer): void {
    chunks.push(b);
    for (const w of [...waiters]) if (chunks.length > 0) w();
    tree.wake(pipe);
  }

  const sub = tree.createDir(tree.createDir(root, 'dir'), 'sub');
  tree.createFile(sub, 'leaf', { show: () => 'leaf\n' }, { mode: 0o444 });
  tree.createSymlink(root, 'link', 'dir/sub/leaf');

  interface EventData {
    readonly id: number;
    readonly name: string;
  }
  const enabled = new Set<number>();
  const table: TemplateTable<EventData> = Object.freeze([
    {
      name: 'enable',
      callback: (_n, d) => ({
        mode: 0o644,
        ops: {
          show: () => (enabled.has(d.id) ? '1\n' : '0\n'),
          write: (_f, bytes) => {
            const v = Buffer.from(bytes).toString().trim();
            if (v === '1') enabled.add(d.id);
            else if (v === '0') enabled.delete(d.id);
            else throw new FsError('EINVAL');
            return undefined;
          },
        },
      }),
    },
    { name: 'id', callback: (_n, d) => ({ mode: 0o444, ops: { show: () => `${d.id}\n` } }) },
    { name: 'format', callback: (_n, d) => ({ mode: 0o444, ops: { show: () => `name: ${d.name}\nID: ${d.id}\n` } }) },
  ]);
  const events = tree.createDir(root, 'events');
  let id = 1;
  for (let s = 0; s < (data.systems ?? 3); s++) {
    const sys = tree.createDir(events, `sys${s}`);
    for (let e = 0; e < (data.eventsPerSystem ?? 4); e++) {
      const name = `ev${e}`;
      tree.createTemplateDir(sys, name, table, { id: id++, name });
    }
  }
  const instances: DirNode = tree.createDir(root, 'instances');

  env.onWake(() => {
    wakes++;
    if (shared) sharedSeen = Atomics.load(shared, 0);
  });
  env.onMessage((m) => {
    const msg = m as { type: string; text?: string; name?: string; path?: string; mode?: number };
    if (msg.type === 'push') push(Buffer.from(msg.text ?? '', 'utf8'));
    else if (msg.type === 'mkdir') tree.createDir(root, msg.name!);
    else if (msg.type === 'mkdir-sync') {
      tree.createDir(root, msg.name!);
      void env.invalidationsSent().then(() => env.postMessage({ type: 'mkdir-sync' }));
    } else if (msg.type === 'chmod') tree.setMode(tree.resolve(msg.path!)!, msg.mode!);
    else if (msg.type === 'chmod-sync') {
      tree.setMode(tree.resolve(msg.path!)!, msg.mode!);
      void env.invalidationsSent().then(() => env.postMessage({ type: 'chmod-sync' }));
    } else if (msg.type === 'live') env.postMessage({ type: 'live', n: tree.liveInodes() });
    else if (msg.type === 'release-held') {
      for (const answer of held) answer();
      held.clear();
    }
  });
  void text;
  return tree;
}
