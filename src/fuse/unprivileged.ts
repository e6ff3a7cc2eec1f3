/**
 * Mounting as a non-root user, through fusermount3 (setuid root). fusermount3 mounts and hands the /dev/fuse
 * descriptor back over a unix socket with SCM_RIGHTS. Node cannot receive a descriptor: plain sockets read without
 * ancillary data, and its IPC channel aborts the process on a character device (libuv guesses UV_FILE, Node
 * CHECKs for a socket or pipe). So a small Python relay (python3's standard library has recv_fds) receives it and
 * shuttles bytes: /dev/fuse → FIFO `requests` → serving thread → FIFO `replies` (and `notes`, for the helper
 * thread's invalidations, so they never interleave with a large reply) → /dev/fuse.
 *
 * The relay costs a copy and a context switch per message; the root path (mount(8)) has none of it. fusermount3 runs
 * with auto_unmount: it stays alive holding the socket, and unmounts when the relay (and so we) go away. The relay
 * dies with our thread that started it (a parent-death signal), so it is also the non-root path's way to end the
 * connection when we die (see watchdog.ts).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MountFlags } from './mount-command.js';
import { findPython } from './requirements.js';

const RELAY = `
import errno, os, socket, subprocess, sys, threading
mnt, opts, fifo_dir, parent = sys.argv[1:5]
try:
    # Die with the thread that started us (PR_SET_PDEATHSIG): closing our /dev/fuse descriptor ends the connection,
    # which frees any thread of that process stuck in a request to this mount, and fusermount3 then unmounts.
    import ctypes
    ctypes.CDLL(None).prctl(1, 9)
except Exception:
    pass
if os.getppid() != int(parent):
    sys.exit(1)
ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
env = dict(os.environ, _FUSE_COMMFD=str(theirs.fileno()))
proc = subprocess.Popen(['fusermount3', '-o', opts, '--', mnt], env=env, pass_fds=[theirs.fileno()],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
theirs.close()
_, fds, _, _ = socket.recv_fds(ours, 1, 1)
if not fds:
    err = proc.stderr.read().decode(errors='replace').strip()
    proc.wait()
    sys.stderr.write(err or 'fusermount3 exited %d' % proc.returncode)
    sys.exit(1)
proc.stderr.close()
fuse = fds[0]

def finish():
    # Closing our end of the socket tells fusermount3 (auto_unmount) to unmount; wait for it so it is reaped by us.
    ours.close()
    try:
        proc.wait(timeout=5)
    except Exception:
        pass
    os._exit(0)
print('mounted', flush=True)
req = os.open(os.path.join(fifo_dir, 'requests'), os.O_WRONLY)
rep = os.open(os.path.join(fifo_dir, 'replies'), os.O_RDONLY)
note = os.open(os.path.join(fifo_dir, 'notes'), os.O_RDONLY)

def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]

def requests():
    while True:
        try:
            data = os.read(fuse, (1 << 20) + 8192)
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.EINTR, errno.EAGAIN):
                continue
            break
        try:
            write_all(req, data)
        except OSError:
            break
    finish()

def read_exactly(fd, n):
    buf = b''
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf

def replies(src):
    while True:
        head = read_exactly(src, 16)
        if head is None:
            finish()
        n = int.from_bytes(head[:4], 'little')
        body = read_exactly(src, n - 16) if n > 16 else b''
        if body is None:
            finish()
        try:
            os.write(fuse, head + body)
        except OSError:
            pass

threading.Thread(target=replies, args=(note,), daemon=True).start()
threading.Thread(target=requests, daemon=True).start()
replies(rep)
`;

export interface UnprivilegedMount {
  /** Directory holding the FIFOs the serving thread opens (it removes it once open). */
  readonly fifoDir: string;
  /** Resolves once the relay has exited (it does when the serving thread closes its FIFOs). */
  close(): Promise<void>;
}

export async function mountUnprivileged(mountpoint: string, flags: MountFlags): Promise<UnprivilegedMount> {
  const python = findPython();
  if (!python) {
    throw new Error(
      `cannot mount FUSE at ${mountpoint} as a non-root user: receiving the descriptor from fusermount3 needs python3 (3.9+)`,
    );
  }
  const fifoDir = mkdtempSync(join(tmpdir(), 'ntrace-fuse-relay-'));
  for (const name of ['requests', 'replies', 'notes']) {
    const r = spawnSync('mkfifo', ['-m', '600', join(fifoDir, name)]);
    if (r.status !== 0) throw new Error(`cannot create the relay's FIFOs in ${fifoDir}`);
  }
  const opts = [`fsname=${flags.fsname}`, 'subtype=ntrace', 'auto_unmount'];
  if (flags.defaultPermissions) opts.push('default_permissions');
  if (flags.allowOther) opts.push('allow_other');
  const child: ChildProcess = spawn(python, ['-c', RELAY, mountpoint, opts.join(','), fifoDir, String(process.pid)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const mounted = await new Promise<boolean>((resolve) => {
    child.stdout!.setEncoding('utf8').once('data', (d: string) => resolve(d.startsWith('mounted')));
    child.once('exit', () => resolve(false));
    child.once('error', () => resolve(false));
  });
  if (!mounted) {
    rmSync(fifoDir, { recursive: true, force: true });
    throw new Error(`cannot mount FUSE at ${mountpoint} through fusermount3: ${err.trim() || 'the relay failed'}`);
  }
  child.unref();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();
  return {
    fifoDir,
    async close() {
      rmSync(fifoDir, { recursive: true, force: true });
      if (child.exitCode !== null || child.signalCode !== null) return;
      // It exits by itself once the serving thread closed its FIFOs; a relay nobody connected to gets a signal.
      const exited = new Promise((r) => child.once('exit', r));
      const timer = setTimeout(() => child.kill('SIGTERM'), 1000);
      await exited;
      clearTimeout(timer);
    },
  };
}
