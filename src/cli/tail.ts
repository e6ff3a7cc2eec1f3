/**
 * `ntrace tail TARGET [SYS[:EVENT]]… [--filter EXPR]`: enables the given events (default node_http) in a fresh
 * instance of TARGET's tree, streams that instance's trace_pipe to stdout until Ctrl-C or the process ends, then
 * removes the instance, so the process is left exactly as it was.
 */
import { openTarget, removeInstance, TreeError } from '../client/index.js';
import { eventSelection } from '../record/selection.js';
import { writeStdout } from './stdout.js';
import { abortOnSignals } from './until-signal.js';

export interface TailCommand {
  readonly target: string;
  readonly events: readonly string[];
  readonly filter?: string;
}

/** Errors that mean the tree's process went away while we read. */
const GONE = new Set(['ENOTCONN', 'ECONNABORTED', 'ENODEV', 'ENOENT', 'EPIPE', 'ECONNRESET']);

export async function runTail(cmd: TailCommand): Promise<number> {
  const selections = (cmd.events.length > 0 ? cmd.events : ['node_http']).map(eventSelection);
  const tree = await openTarget(cmd.target);
  const instance = `instances/tail-${process.pid}`;
  const stop = abortOnSignals();
  let created = false;
  try {
    // A missing event fails here, before anything changed.
    for (const s of selections) await tree.readFile(s.enable).catch(explain(s.enable, cmd.target));
    await tree.mkdir(instance);
    created = true;
    for (const s of selections) {
      if (cmd.filter !== undefined && s.filter !== '')
        await tree
          .writeFile(`${instance}/${s.filter}`, cmd.filter)
          .catch(explain(`${s.filter} (--filter)`, cmd.target));
      await tree.writeFile(`${instance}/${s.enable}`, '1');
    }
    process.stderr.write(
      `ntrace tail: ${cmd.events.length > 0 ? cmd.events.join(' ') : 'node_http'} from ${tree.location} (Ctrl-C to stop)\n`,
    );
    try {
      for await (const chunk of tree.stream(`${instance}/trace_pipe`, { signal: stop.signal })) {
        if (!(await writeStdout(chunk))) stop.abort(); // a closed pipe (| head) ends the tail
      }
      if (!stop.signal.aborted) process.stderr.write('ntrace tail: the trace ended\n');
    } catch (err) {
      if (!(err instanceof TreeError && GONE.has(err.code))) throw err;
      process.stderr.write('ntrace tail: the process ended\n');
      created = false; // its tree went with it
    }
    return 0;
  } finally {
    stop.release();
    if (created && !(await removeInstance(tree, instance)))
      process.stderr.write(`ntrace tail: could not remove ${instance} from ${tree.location}\n`);
    await tree.close();
  }
}

function explain(what: string, target: string): (err: unknown) => never {
  return (err) => {
    if (err instanceof TreeError && err.code === 'ENOENT') throw new Error(`ntrace tail: ${target} has no ${what}`);
    if (err instanceof TreeError && err.code === 'EINVAL')
      throw new Error(`ntrace tail: ${what} refused: ${err.message}`);
    throw err;
  };
}
