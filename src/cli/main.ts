#!/usr/bin/env node
/**
 * The `ntrace` command: one verb per file in this folder, dispatched here. USAGE below is the reference; verbs that
 * take a TARGET accept a PID, a socket path or a mount path (src/client/).
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

// Each verb's module is imported when that verb runs: `ntrace cat` does not load the engine, FUSE or the demo.

const USAGE = `usage:
  ntrace serve --events SPEC.json --mount DIR [--socket PATH] [--no-fuse] [--uid N] [--gid N] [--mode OCT]
               [--allow-other]
      Serve a tracefs whose events come from SPEC.json (the shape of kernel-events.json) until SIGINT/SIGTERM, mounted
      at DIR when FUSE is available and always on a unix socket (PATH, NTRACE_SOCKET, or the default; --gid makes it
      group-accessible). --no-fuse: the socket alone (no --mount needed).
  ntrace cat TARGET FILE…              Print files of TARGET's tree (trace_pipe and trace_pipe_raw stream until Ctrl-C).
  ntrace write TARGET FILE VALUE       One write of VALUE to FILE; on failure the errno and the error_log line.
  ntrace ls                            List this user's live ntrace processes (e.g. node --import ntrace/register):
                                       pid, uptime, threads, mount, enabled events, command line.
  ntrace ls TARGET [DIR]               List a directory of TARGET's tree (directories end in '/').
  ntrace tail TARGET [SYS[:EVENT]]… [-f|--filter EXPR]
                                       Enable the events (default node_http) in a fresh instance, print its
                                       trace_pipe until Ctrl-C or TARGET ends, then remove the instance.
  ntrace tree TARGET [DIR]             Every path under DIR.
  ntrace mkdir|rmdir TARGET instances/NAME
  ntrace mount TARGET DIR              Mount TARGET's tree (PID or socket) at DIR in this command, until Ctrl-C or
                                       until TARGET goes away (then exit status 3).
      TARGET is a PID, a socket path or a mount path. Exit status: 0 done, 1 refused by the tree, 2 usage,
      3 TARGET unreachable or gone.
  ntrace demo [--mount DIR]
      Run a small HTTP server and client instrumented with http:request_start/request_end, mounted at ./tracing.
  ntrace remount DIR [--gid N] [--uid N] [--mode OCT]
      Like 'mount -o remount,gid=N': reset the owner/group of every file of the ntrace mount at DIR.
  ntrace record TARGET [-e SYS[:EVENT]]… [-f FILTER] [-B INSTANCE] [-o FILE.dat] [--duration S] [--v6] [-- CMD…]
      Record TARGET's events (a mount path, socket or PID) to trace-cmd's trace.dat (v7, or v6 with --v6) until
      Ctrl-C, S seconds, or CMD's exit. trace-cmd report and KernelShark open the file.
  ntrace export FILE.dat|TARGET --format chrome-json [-o OUT.json] [--span SYS:START,SYS:END[,KEY…]]…
                [-e SYS[:EVENT]]… [--duration S]
      Convert a trace.dat (or record TARGET first) to the Trace Event Format for Perfetto / chrome://tracing:
      instant events with the fields as args, complete events for *_start/*_end pairs and --span pairs.
  ntrace ship TARGET --clickhouse URL[,URL...] [--database DB] [-e SYS[:EVENT]]... [-f FILTER] [--service NAME]
              [--cluster NAME] [--spool DIR] [--spool-max-mb N] [--buffer-kb N] [--batch-ms N] [--nice N]
      Ship events of TARGET (a mount path, socket or PID) to ClickHouse until SIGINT/SIGTERM (docs/SHIP.md);
      --batch-ms N bounds a batch's time (default 1000: rows reach ClickHouse ~1-2 s after they were written);
      --nice N runs it at that CPU priority (as nice(1); a mount's shipper child runs at 19).
  ntrace hist --clickhouse URL 'hist:keys=...' SYS:EVENT [--database DB] [--since 10m] [--where FILTER]
              [--by host] [--cluster] [--raw]
      The kernel's hist language over the shipped rows, printed in the hist file format.
`;

/** Thrown for command-line mistakes: printed with the usage, exit status 2. */
class UsageError extends Error {}

/** `--duration S`: a positive number of seconds, or undefined when not given. */
function durationSeconds(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const s = Number(v);
  if (!(s > 0)) throw new UsageError(`--duration takes seconds, got '${v}'`);
  return s;
}

function parseId(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[0-9]+$/.test(v) || Number(v) >= 2 ** 32 - 1) throw new UsageError(`--${name} takes a numeric id, got '${v}'`);
  return Number(v);
}

function parseMode(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[0-7]{1,4}$/.test(v)) throw new UsageError(`--mode takes octal permission bits (e.g. 750), got '${v}'`);
  return Number.parseInt(v, 8);
}

/** Flags more than one verb takes, spelled once: the same meaning and short letter (trace-cmd's) in every verb. */
const FLAGS = {
  event: { type: 'string', short: 'e', multiple: true },
  filter: { type: 'string', short: 'f' },
  output: { type: 'string', short: 'o' },
  duration: { type: 'string' },
  mount: { type: 'string' },
  uid: { type: 'string' },
  gid: { type: 'string' },
  mode: { type: 'string' },
  clickhouse: { type: 'string' },
  database: { type: 'string' },
} as const;
type Options = NonNullable<ParseArgsConfig['options']>;

/** A verb's arguments: the shared FLAGS it names, its own `extra` flags, -h/--help, and operands (positionals). */
function verbArgs<K extends keyof typeof FLAGS, E extends Options = Record<never, never>>(
  args: string[],
  shared: readonly K[],
  extra?: E,
) {
  const options: Options = { ...extra, help: { type: 'boolean', short: 'h' } };
  for (const k of shared) options[k] = FLAGS[k];
  type Chosen = Pick<typeof FLAGS, K> & E & { readonly help: { readonly type: 'boolean' } };
  return parseArgs({ args, options: options as Chosen, allowPositionals: true, strict: true });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const { values, positionals } = verbArgs(rest, ['mount', 'uid', 'gid', 'mode'], {
        events: { type: 'string' },
        'allow-other': { type: 'boolean' },
        socket: { type: 'string' },
        'no-fuse': { type: 'boolean' },
      });
      if (values.help) break;
      if (positionals.length > 0) throw new UsageError(`serve takes no operand ('${positionals[0]}')`);
      if (!values.events) throw new UsageError('serve needs --events SPEC.json');
      const fuse = values['no-fuse'] !== true;
      if (fuse && !values.mount) throw new UsageError('serve needs --mount DIR (or --no-fuse)');
      return (await import('./serve.js')).runServe({
        events: values.events,
        mount: values.mount,
        socket: values.socket,
        fuse,
        uid: parseId('uid', values.uid),
        gid: parseId('gid', values.gid),
        mode: parseMode(values.mode),
        allowOther: values['allow-other'] ?? false,
      });
    }
    case 'cat':
    case 'write':
    case 'ls':
    case 'tree':
    case 'mkdir':
    case 'rmdir': {
      const { values, positionals } = verbArgs(rest, []);
      if (values.help) break;
      const [target, ...args] = positionals;
      if (!target && command === 'ls') return (await import('./ls.js')).runLs();
      if (!target) throw new UsageError(`${command} needs a TARGET (a PID, a socket path or a mount path)`);
      const { runCat, runLsTree, runMkdir, runTree, runWrite } = await import('./tree-verbs.js');
      if (command === 'cat') {
        if (args.length === 0) throw new UsageError('cat needs at least one FILE');
        return runCat(target, args);
      }
      if (command === 'write') {
        if (args.length !== 2) throw new UsageError('write needs FILE and VALUE');
        return runWrite(target, args[0], args[1]);
      }
      if (command === 'ls' || command === 'tree') {
        if (args.length > 1) throw new UsageError(`${command} takes one DIR at most`);
        return command === 'ls' ? runLsTree(target, args[0] ?? '') : runTree(target, args[0] ?? '');
      }
      if (args.length !== 1) throw new UsageError(`${command} needs one DIR (instances/NAME)`);
      return runMkdir(target, args[0], command === 'rmdir');
    }
    case 'tail': {
      const { values, positionals } = verbArgs(rest, ['filter']);
      if (values.help) break;
      const [target, ...events] = positionals;
      if (!target) throw new UsageError('tail needs a TARGET (a PID, a socket path or a mount path)');
      return (await import('./tail.js')).runTail({ target, events, filter: values.filter });
    }
    case 'mount': {
      const { values, positionals } = verbArgs(rest, []);
      if (values.help) break;
      if (positionals.length !== 2) throw new UsageError('mount needs TARGET and DIR');
      return (await import('./mount-proxy.js')).runMountProxy(positionals[0], positionals[1]);
    }
    case 'demo': {
      const { values, positionals } = verbArgs(rest, ['mount']);
      if (values.help) break;
      if (positionals.length > 0) throw new UsageError(`demo takes no operand ('${positionals[0]}')`);
      return (await import('./demo.js')).runDemo({ mount: values.mount ?? 'tracing' });
    }
    case 'remount': {
      const { values, positionals } = verbArgs(rest, ['uid', 'gid', 'mode']);
      if (values.help) break;
      if (positionals.length !== 1) throw new UsageError('remount needs exactly one DIR');
      const changes = {
        uid: parseId('uid', values.uid),
        gid: parseId('gid', values.gid),
        mode: parseMode(values.mode),
      };
      if (changes.uid === undefined && changes.gid === undefined && changes.mode === undefined)
        throw new UsageError('remount needs --gid, --uid or --mode');
      return (await import('./remount.js')).runRemount(positionals[0], changes);
    }
    case 'record': {
      const dash = rest.indexOf('--');
      const { values, positionals } = verbArgs(
        dash < 0 ? rest : rest.slice(0, dash),
        ['event', 'filter', 'output', 'duration'],
        { instance: { type: 'string', short: 'B' }, v6: { type: 'boolean' } },
      );
      if (values.help) break;
      if (positionals.length !== 1) throw new UsageError('record needs exactly one TARGET');
      const duration = durationSeconds(values.duration);
      return (await import('./record.js')).runRecord({
        target: positionals[0],
        events: values.event ?? [],
        filter: values.filter,
        instance: values.instance,
        output: values.output ?? 'trace.dat',
        duration,
        version: values.v6 ? 6 : 7,
        command: dash < 0 ? [] : rest.slice(dash + 1),
      });
    }
    case 'trace-cmd': {
      const [target, ...args] = rest;
      if (target === undefined || target === '--help' || target === '-h') break;
      return (await import('../tracecmd/index.js')).runTraceCmd(target, args[0] === '--' ? args.slice(1) : args);
    }
    case 'export': {
      const { values, positionals } = verbArgs(rest, ['output', 'event', 'duration'], {
        format: { type: 'string' },
        span: { type: 'string', multiple: true },
      });
      if (values.help) break;
      if (positionals.length !== 1) throw new UsageError('export needs exactly one FILE.dat or TARGET');
      if (values.format !== 'chrome-json') throw new UsageError('export needs --format chrome-json');
      const duration = durationSeconds(values.duration);
      return (await import('./export.js')).runExport({
        source: positionals[0],
        output: values.output ?? 'trace.json',
        spans: values.span ?? [],
        events: values.event ?? [],
        duration,
      });
    }
    case 'ship': {
      const { values, positionals } = verbArgs(rest, ['clickhouse', 'database', 'event', 'filter'], {
        service: { type: 'string' },
        cluster: { type: 'string' },
        spool: { type: 'string' },
        'spool-max-mb': { type: 'string' },
        'buffer-kb': { type: 'string' },
        'batch-ms': { type: 'string' },
        nice: { type: 'string' },
        'parent-pid': { type: 'string' },
      });
      if (values.help) break;
      if (positionals.length !== 1) throw new UsageError('ship needs exactly one TARGET');
      if (!values.clickhouse) throw new UsageError('ship needs --clickhouse URL');
      const mb = values['spool-max-mb'];
      if (mb !== undefined && !/^[1-9][0-9]*$/.test(mb))
        throw new UsageError(`--spool-max-mb takes a number, got '${mb}'`);
      const kb = values['buffer-kb'];
      if (kb !== undefined && !/^[1-9][0-9]*$/.test(kb))
        throw new UsageError(`--buffer-kb takes a number, got '${kb}'`);
      const batchMs = values['batch-ms'];
      if (batchMs !== undefined && !/^[1-9][0-9]*$/.test(batchMs))
        throw new UsageError(`--batch-ms takes a number, got '${batchMs}'`);
      const nice = values.nice;
      if (nice !== undefined && !(/^-?\d+$/.test(nice) && Number(nice) >= -20 && Number(nice) <= 19))
        throw new UsageError(`--nice takes a number from -20 to 19, got '${nice}'`);
      // Loaded only for this verb: the other commands never load the ClickHouse client.
      const { runShip } = await import('./ship.js');
      return runShip(
        positionals[0],
        {
          clickhouse: values.clickhouse,
          database: values.database,
          events: values.event,
          filter: values.filter,
          service: values.service,
          cluster: values.cluster,
          spoolDir: values.spool,
          spoolMaxBytes: mb === undefined ? undefined : Number(mb) << 20,
          bufferKb: kb === undefined ? undefined : Number(kb),
          nice: nice === undefined ? undefined : Number(nice),
          batchMs: batchMs === undefined ? undefined : Number(batchMs),
        },
        parseId('parent-pid', values['parent-pid']),
      );
    }
    case 'hist': {
      const { values, positionals } = verbArgs(rest, ['clickhouse', 'database'], {
        since: { type: 'string' },
        where: { type: 'string' },
        by: { type: 'string' },
        cluster: { type: 'boolean' },
        raw: { type: 'boolean' },
      });
      if (values.help) break;
      if (positionals.length !== 2) throw new UsageError("hist needs 'hist:...' and SYS:EVENT");
      if (!values.clickhouse) throw new UsageError('hist needs --clickhouse URL');
      if (values.by !== undefined && values.by !== 'host') throw new UsageError('--by takes host');
      const { runFleetHist } = await import('./fleet-hist.js');
      return runFleetHist(positionals[0], positionals[1], {
        clickhouse: values.clickhouse,
        database: values.database,
        since: values.since,
        where: values.where,
        by: values.by,
        cluster: values.cluster,
        raw: values.raw,
      });
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      break;
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
  process.stdout.write(USAGE);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError || (err as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`ntrace: ${(err as Error).message}\n${USAGE}`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`${(err as Error)?.message ?? String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
