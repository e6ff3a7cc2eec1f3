/**
 * The verbs that use a tree from outside its process, on a PID, a socket path or a mount path alike (src/client/):
 * `cat`, `write`, `ls TARGET [DIR]`, `tree`, `mkdir`, `rmdir`.
 *
 * Exit status, for scripts: 0 done; 1 the tree refused (the errno is printed, and for `write` the error_log line);
 * 2 a usage mistake (main.ts); 3 TARGET cannot be reached, or went away.
 */
import { openTarget, pathParts, TargetError, type TreeClient, TreeError } from '../client/index.js';
import { writeStdout as out } from './stdout.js';
import { abortOnSignals } from './until-signal.js';

export const EXIT_REFUSED = 1;
export const EXIT_UNREACHABLE = 3;

/** Files read as a stream (consuming reads until Ctrl-C or a closed stdout), not to end of file. */
const STREAMED = new Set(['trace_pipe', 'trace_pipe_raw']);
/**
 * Bytes asked for per read of a stream: over the socket, the most a READ answers, so a full buffer takes the fewest
 * trips (a mount caps a read at its own maximum, 128 KiB for ntrace's).
 */
const STREAM_CHUNK = 1024 * 1024;

/** Opens TARGET, runs `body`, maps failures to the exit statuses above. */
async function withTarget(target: string, body: (tree: TreeClient) => Promise<number>): Promise<number> {
  let tree: TreeClient;
  try {
    tree = await openTarget(target);
  } catch (err) {
    if (!(err instanceof TargetError)) throw err;
    process.stderr.write(`ntrace: ${err.message}\n`);
    return EXIT_UNREACHABLE;
  }
  try {
    return await body(tree);
  } catch (err) {
    if (!(err instanceof TreeError)) throw err;
    if (err.code === 'ENODEV' && tree.kind === 'socket') {
      process.stderr.write(`ntrace: ${target}: the process went away\n`);
      return EXIT_UNREACHABLE;
    }
    process.stderr.write(`ntrace: ${err.message}\n`);
    return EXIT_REFUSED;
  } finally {
    await tree.close();
  }
}

function failed(path: string, err: TreeError): string {
  return `ntrace: ${path}: ${err.code} (errno ${err.errno})\n`;
}

export function runCat(target: string, files: string[]): Promise<number> {
  return withTarget(target, async (tree) => {
    let status = 0;
    for (const file of files) {
      const name = pathParts(file).at(-1) ?? '';
      try {
        if (STREAMED.has(name)) {
          const stop = abortOnSignals();
          try {
            for await (const chunk of tree.stream(file, {
              signal: stop.signal,
              chunkSize: STREAM_CHUNK,
              reuse: true,
            })) {
              if (!(await out(chunk))) stop.abort();
            }
          } finally {
            stop.release();
          }
          if (stop.signal.aborted) return status;
        } else if (!(await out(await tree.readFile(file)))) return status;
      } catch (err) {
        if (!(err instanceof TreeError) || err.code === 'ENODEV') throw err;
        process.stderr.write(failed(file, err));
        status = EXIT_REFUSED;
      }
    }
    return status;
  });
}

/** The error_log that a failed write to `file` reports into: its instance's, or the top level's. */
function errorLogOf(file: string): string {
  const parts = pathParts(file);
  return parts[0] === 'instances' && parts.length > 2 ? `instances/${parts[1]}/error_log` : 'error_log';
}

export function runWrite(target: string, file: string, value: string): Promise<number> {
  return withTarget(target, async (tree) => {
    const log = errorLogOf(file);
    const before = await tree.readFile(log).then(
      (b) => Buffer.from(b).toString(),
      () => '',
    );
    try {
      await tree.writeFile(file, value.endsWith('\n') ? value : `${value}\n`);
      return 0;
    } catch (err) {
      if (!(err instanceof TreeError) || err.code === 'ENODEV') throw err;
      process.stderr.write(failed(file, err));
      const after = await tree.readFile(log).then(
        (b) => Buffer.from(b).toString(),
        () => '',
      );
      // What the write added to error_log (the log keeps the last few entries; a full log shifts, so compare tails).
      const added = after.startsWith(before) ? after.slice(before.length) : after === before ? '' : after;
      if (added) process.stderr.write(added.endsWith('\n') ? added : `${added}\n`);
      return EXIT_REFUSED;
    }
  });
}

export function runLsTree(target: string, dir: string): Promise<number> {
  return withTarget(target, async (tree) => {
    const entries = await tree.readdir(dir);
    await out(entries.map((e) => `${e.name}${e.kind === 'dir' ? '/' : ''}\n`).join(''));
    return 0;
  });
}

/** Every path under DIR, depth first, directories with a trailing '/'. */
export function runTree(target: string, dir: string): Promise<number> {
  return withTarget(target, async (tree) => {
    const walk = async (path: string, indent: string): Promise<void> => {
      for (const e of await tree.readdir(path)) {
        const child = path === '' ? e.name : `${path}/${e.name}`;
        if (!(await out(`${indent}${e.name}${e.kind === 'dir' ? '/' : ''}\n`))) return;
        if (e.kind === 'dir') await walk(child, `${indent}  `);
      }
    };
    await walk(pathParts(dir).join('/'), '');
    return 0;
  });
}

export function runMkdir(target: string, dir: string, remove: boolean): Promise<number> {
  return withTarget(target, async (tree) => {
    if (remove) await tree.rmdir(dir);
    else await tree.mkdir(dir);
    return 0;
  });
}
