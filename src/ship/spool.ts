/**
 * The on-disk spool: batches wait here, oldest first, while ClickHouse cannot take them. Bounded in bytes; when a new
 * batch would not fit, the oldest batches are dropped (their rows counted as lost: the caller records a `lost` row)
 * — newer data is worth more to someone watching a fleet, and the drop is never silent.
 *
 * One file per batch, `<12-digit number>.batch`: a JSON header line `{table, columns, rows, event, format}` then the
 * body (a Native block; files of earlier versions, without `format`, hold TabSeparated rows). Files left by an earlier run in the same directory are sent first. A `lock` file holding the
 * owner's pid keeps two live shippers out of one directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pidExists } from '../discovery/index.js';

export interface Batch {
  /** `db`.`table` */
  readonly table: string;
  readonly columns: readonly string[];
  readonly rows: number;
  /** `system:event` (or `lost`), for logs and lost rows. */
  readonly event: string;
  /** The body's ClickHouse input format. */
  readonly format: 'Native' | 'TabSeparated';
  readonly body: Buffer;
}

interface Entry {
  readonly file: string;
  readonly bytes: number;
  readonly rows: number;
  readonly event: string;
}

/** Takes `dir` for this process, or `dir-<pid>` when a live shipper holds it. Returns the directory used. */
export function claimSpoolDir(dir: string): string {
  for (const d of [dir, `${dir}-${process.pid}`]) {
    fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    const lock = path.join(d, 'lock');
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return d;
    } catch {
      const owner = Number(fs.readFileSync(lock, 'utf8'));
      if (owner === process.pid || !pidExists(owner)) {
        fs.writeFileSync(lock, String(process.pid));
        return d;
      }
    }
  }
  throw new Error(`spool directory ${dir} is in use`);
}

export class Spool {
  readonly dir: string;
  readonly maxBytes: number;
  readonly #entries: Entry[] = [];
  #bytes = 0;
  #rows = 0;
  #next = 0;
  #sending: Entry | undefined;

  constructor(dir: string, maxBytes: number) {
    this.dir = claimSpoolDir(dir);
    this.maxBytes = maxBytes;
    for (const name of fs
      .readdirSync(this.dir)
      .filter((n) => /^\d{12}\.batch$/.test(n))
      .sort()) {
      const file = path.join(this.dir, name);
      try {
        const head = readHeader(file);
        const bytes = fs.statSync(file).size;
        this.#entries.push({ file, bytes, rows: head.rows, event: head.event });
        this.#bytes += bytes;
        this.#rows += head.rows;
        this.#next = Number(name.slice(0, 12)) + 1;
      } catch {
        fs.rmSync(file, { force: true });
      }
    }
  }

  get bytes(): number {
    return this.#bytes;
  }
  get rows(): number {
    return this.#rows;
  }
  get batches(): number {
    return this.#entries.length;
  }

  /** Stores a batch; returns the batches dropped to make room (oldest first), whose rows are lost. */
  put(b: Batch): { rows: number; event: string }[] {
    const head = Buffer.from(
      `${JSON.stringify({ table: b.table, columns: b.columns, rows: b.rows, event: b.event, format: b.format })}\n`,
    );
    const bytes = head.length + b.body.length;
    const dropped: { rows: number; event: string }[] = [];
    if (bytes > this.maxBytes) return [{ rows: b.rows, event: b.event }];
    for (;;) {
      if (this.#bytes + bytes <= this.maxBytes) break;
      // Never the batch being sent; `lost` rows (tiny, they account for the drops) only when nothing else is left.
      let i = this.#entries.findIndex((x) => x !== this.#sending && x.event !== 'lost');
      if (i < 0) i = this.#entries.findIndex((x) => x !== this.#sending);
      if (i < 0) break;
      const e = this.#entries.splice(i, 1)[0];
      this.#forget(e);
      dropped.push({ rows: e.rows, event: e.event });
    }
    const file = path.join(this.dir, `${String(this.#next++).padStart(12, '0')}.batch`);
    fs.writeFileSync(file, Buffer.concat([head, b.body]));
    this.#entries.push({ file, bytes, rows: b.rows, event: b.event });
    this.#bytes += bytes;
    this.#rows += b.rows;
    return dropped;
  }

  /** The oldest batch, being sent: kept (and never dropped) until `remove()`. */
  peek(): Batch | undefined {
    while (this.#entries.length > 0) {
      const e = this.#entries[0];
      this.#sending = e;
      try {
        const data = fs.readFileSync(e.file);
        const nl = data.indexOf(10);
        const head = JSON.parse(data.subarray(0, nl).toString()) as Omit<Batch, 'body'>;
        return { ...head, format: head.format ?? 'TabSeparated', body: data.subarray(nl + 1) };
      } catch {
        this.#entries.shift();
        this.#forget(e);
      }
    }
    return undefined;
  }

  /** Forgets the batch `peek()` gave (sent, or refused). */
  remove(): void {
    const e = this.#sending;
    this.#sending = undefined;
    const i = e ? this.#entries.indexOf(e) : -1;
    if (i >= 0) this.#forget(this.#entries.splice(i, 1)[0]);
  }

  #forget(e: Entry): void {
    this.#bytes -= e.bytes;
    this.#rows -= e.rows;
    fs.rmSync(e.file, { force: true });
  }

  /** Releases the directory (batches stay for the next run). */
  close(): void {
    fs.rmSync(path.join(this.dir, 'lock'), { force: true });
  }
}

function readHeader(file: string): { rows: number; event: string } {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(65536);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const nl = buf.subarray(0, n).indexOf(10);
    if (nl < 0) throw new Error('no header');
    const h = JSON.parse(buf.subarray(0, nl).toString()) as { rows: number; event: string };
    if (typeof h.rows !== 'number') throw new Error('bad header');
    return h;
  } finally {
    fs.closeSync(fd);
  }
}
