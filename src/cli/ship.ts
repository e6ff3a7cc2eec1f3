/** `ntrace ship TARGET --clickhouse URL …`: ships chosen events until SIGINT/SIGTERM, with a progress line on a TTY. */
import { openTarget } from '../client/index.js';
import { pidExists } from '../discovery/index.js';
import { type ShipOptions, setOwnNice, startShipping, statsText } from '../ship/index.js';
import { catchStopSignals } from './until-signal.js';

export async function runShip(target: string, o: ShipOptions, parentPid?: number): Promise<number> {
  // First, so that the threads this process starts from now on inherit it.
  if (o.nice !== undefined) setOwnNice(o.nice);
  const stop = catchStopSignals();
  const tree = await openTarget(target);
  const shipper = await startShipping(tree, o);
  // One line on stdout says the instance exists and the events are enabled (spawnShipper waits for it).
  process.stdout.write(`ntrace ship: shipping from ${tree.location} (instance ${shipper.instance.name})\n`);
  const tty = process.stderr.isTTY;
  let last = 0;
  let lastAt = Date.now();
  const progress = setInterval(() => {
    const s = shipper.stats();
    const now = Date.now();
    const rate = Math.round(((s.shippedRows - last) * 1000) / Math.max(1, now - lastAt));
    last = s.shippedRows;
    lastAt = now;
    if (tty) {
      process.stderr.write(
        `\r\x1b[Kshipped ${s.shippedRows} (${rate}/s)  spooled ${s.spooledRows}  lost ${s.lostRecords}  refused ${s.refusedRows}${s.down ? '  [ClickHouse down]' : ''}`,
      );
    }
  }, 1000);
  // Started by a process's mount() or register: stop when that process is gone.
  let watch: NodeJS.Timeout | undefined;
  const parentGone = new Promise<'parent'>((resolve) => {
    if (parentPid === undefined) return;
    watch = setInterval(() => {
      if (!pidExists(parentPid)) resolve('parent');
    }, 500);
  });
  // The progress timer keeps the process alive until then.
  const why = await Promise.race([stop.received, parentGone]);
  clearInterval(watch);
  clearInterval(progress);
  if (tty) process.stderr.write('\n');
  const s = await shipper.close();
  await tree.close();
  process.stderr.write(statsText(s));
  return why === 'parent' ? 0 : stop.dieBy(why);
}
