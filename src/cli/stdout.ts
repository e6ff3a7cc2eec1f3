/** Writing a command's output to stdout, for the verbs that stream (cat of a pipe file, tail). */

let stdoutClosed = false;

/** Writes to stdout with backpressure; false once stdout is closed (`| head`: EPIPE ends the output, quietly). */
export function writeStdout(chunk: Uint8Array | string): Promise<boolean> {
  if (process.stdout.listenerCount('error') === 0)
    process.stdout.on('error', () => {
      stdoutClosed = true;
    });
  return new Promise((resolve) => {
    if (stdoutClosed || process.stdout.destroyed) return resolve(false);
    const ok = process.stdout.write(chunk, (err) => {
      if (err) {
        stdoutClosed = true;
        resolve(false);
      } else if (ok) resolve(true);
    });
    if (!ok) process.stdout.once('drain', () => resolve(true));
  });
}
