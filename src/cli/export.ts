/**
 * `ntrace export FILE.dat|TARGET --format chrome-json [-o OUT.json] [--span SYS:START,SYS:END[,KEY…]]…
 * [-e SYS[:EVENT]]… [--duration S]`: a trace.dat converted for Perfetto / chrome://tracing; a TARGET is recorded
 * first (until Ctrl-C or S seconds) into a temporary trace.dat.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportChromeJson, parseSpan } from '../export/index.js';
import { runRecord } from './record.js';

export interface ExportCommand {
  readonly source: string;
  readonly output: string;
  readonly spans: readonly string[];
  readonly events: readonly string[];
  readonly duration?: number;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export async function runExport(cmd: ExportCommand): Promise<number> {
  const spans = cmd.spans.map(parseSpan);
  let input = cmd.source;
  let scratch: string | undefined;
  try {
    if (!isFile(cmd.source)) {
      scratch = mkdtempSync(join(tmpdir(), 'ntrace-export-'));
      input = join(scratch, 'trace.dat');
      const code = await runRecord({
        target: cmd.source,
        events: cmd.events,
        output: input,
        duration: cmd.duration,
        version: 7,
        command: [],
      });
      if (code !== 0) return code;
    }
    const r = exportChromeJson(input, cmd.output, { spans });
    process.stderr.write(`${cmd.output}: ${r.events} records → ${r.spans} spans, ${r.instants} instant events\n`);
    return 0;
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}
