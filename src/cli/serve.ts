/** `ntrace serve`: a tracefs whose events come from a JSON spec, in the foreground until SIGINT/SIGTERM/SIGHUP. */
import { mount } from '../tracefs/index.js';
import { defineSpec, readSpec } from './spec.js';
import { catchStopSignals } from './until-signal.js';

export interface ServeArgs {
  events: string;
  /** Where to mount (needed with FUSE). */
  mount?: string;
  socket?: string;
  fuse: boolean;
  uid?: number;
  gid?: number;
  mode?: number;
  allowOther: boolean;
}

export async function runServe(args: ServeArgs): Promise<number> {
  const stop = catchStopSignals();
  const spec = readSpec(args.events);
  const { events, problems } = defineSpec(spec);
  for (const p of problems) process.stderr.write(`ntrace: skipped ${p}\n`);
  const m = await mount(args.mount ?? '.', {
    socket: args.socket,
    fuse: args.fuse,
    uid: args.uid,
    gid: args.gid,
    mode: args.mode,
    allowOther: args.allowOther,
    control: true,
  });
  const where = [m.fuse ? m.mountpoint : undefined, m.socket].filter((w) => w !== undefined).join(' and ');
  process.stdout.write(`ntrace: serving ${events.length} events at ${where} (Ctrl-C to stop)\n`);
  stop.keepAlive();
  const why = await Promise.race([stop.received, m.closed.then(() => 'closed' as const)]);
  await m.close();
  if (why === 'closed') {
    process.stderr.write('ntrace: the mount went away\n');
    return 1;
  }
  return stop.dieBy(why);
}
