/**
 * `ntrace record TARGET [-e SYS[:EVENT]]… [-f FILTER] [-B INSTANCE] [-o FILE.dat] [--duration S] [--v6] [-- CMD…]`:
 * records until Ctrl-C, the duration, or the command's exit; a progress line on a terminal; losses reported at the end.
 */
import { spawn } from 'node:child_process';
import { openTarget } from '../client/index.js';
import { type RecordProgress, record } from '../record/index.js';
import { abortOnSignals } from './until-signal.js';

export interface RecordCommand {
  readonly target: string;
  readonly events: readonly string[];
  readonly filter?: string;
  readonly instance?: string;
  readonly output: string;
  readonly duration?: number;
  readonly version: 6 | 7;
  readonly command: readonly string[];
}

const mb = (bytes: number) => (bytes / 1048576).toFixed(1);

export async function runRecord(cmd: RecordCommand): Promise<number> {
  const tree = await openTarget(cmd.target);
  const stop = abortOnSignals();
  const tty = process.stderr.isTTY;
  let last = { t: 0, events: 0 };
  const progress = (p: RecordProgress) => {
    const rate = (p.events - last.events) / Math.max(0.001, p.seconds - last.t);
    last = { t: p.seconds, events: p.events };
    process.stderr.write(
      `\r${p.seconds.toFixed(0)} s  ${p.events} events  ${rate.toFixed(0)} events/s  ${mb(p.bytes)} MB  ${p.lost} lost\x1b[K`,
    );
  };
  let exitCode = 0;
  try {
    const result = await record({
      tree,
      events: cmd.events,
      filter: cmd.filter,
      instance: cmd.instance,
      output: cmd.output,
      duration: cmd.duration,
      version: cmd.version,
      signal: stop.signal,
      onProgress: tty ? progress : undefined,
      onStarted: () => {
        if (cmd.command.length === 0) return;
        const child = spawn(cmd.command[0], cmd.command.slice(1), { stdio: 'inherit' });
        child.on('exit', (code, sig) => {
          exitCode = code ?? (sig ? 128 : 1);
          stop.abort();
        });
        child.on('error', (err) => {
          process.stderr.write(`ntrace record: ${cmd.command[0]}: ${err.message}\n`);
          exitCode = 127;
          stop.abort();
        });
      },
    });
    if (tty) process.stderr.write('\n');
    process.stderr.write(
      `${cmd.output}: ${result.events} events, ${result.cpus} CPUs, ${mb(result.bytes)} MB of pages in ${result.seconds.toFixed(1)} s\n`,
    );
    for (const l of result.lostByCpu) {
      if (l.overrun)
        process.stderr.write(`${l.overrun} events lost on cpu${l.cpu} (overwritten before they were read)\n`);
      if (l.dropped) process.stderr.write(`${l.dropped} events lost on cpu${l.cpu} (dropped: buffer full)\n`);
    }
    if (result.lost > 0 && result.lostByCpu.length === 0)
      process.stderr.write(`${result.lost} events lost (reported in the pages)\n`);
  } finally {
    stop.release();
    await tree.close();
  }
  return exitCode;
}
