/**
 * The one place that talks to ClickHouse, through the official client over HTTP. Errors come back classified: the
 * server refused the request (it answered with an exception: bad data, unknown column…) or it could not be reached
 * (refused connection, reset, timeout) — the first is logged and counted, the second retried.
 */
import { Readable } from 'node:stream';
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';

/** ClickHouse exception codes that mean "try again later", not "this data is bad". */
const TRANSIENT_CODES = new Set([
  159, // TIMEOUT_EXCEEDED
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  241, // MEMORY_LIMIT_EXCEEDED
  252, // TOO_MANY_PARTS
  279, // ALL_CONNECTION_TRIES_FAILED
]);

export class ServerError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
  get transient(): boolean {
    return TRANSIENT_CODES.has(this.code);
  }
}

/** The server's exception as it sent it (`Code: 27, e.displayText() = DB::Exception: …`), or undefined. */
function serverError(e: unknown): ServerError | undefined {
  const msg = (e as Error)?.message ?? '';
  const m = /Code: (\d+)/.exec(msg);
  if (!m) return undefined;
  return new ServerError(Number(m[1]), msg.replace(/, e\.what\(\) = DB::Exception\s*$/, '').trim());
}

/** Rethrows `e` as a ServerError when the server answered, as is otherwise (unreachable). */
function classify(e: unknown): never {
  throw serverError(e) ?? e;
}

export class ClickHouse {
  readonly url: string;
  readonly #client: ClickHouseClient;

  constructor(url: string, options: { timeoutMs?: number } = {}) {
    this.url = url;
    const u = new URL(url);
    this.#client = createClient({
      url: `${u.protocol}//${u.host}`,
      username: decodeURIComponent(u.username) || 'default',
      password: decodeURIComponent(u.password),
      request_timeout: options.timeoutMs ?? 30_000,
      log: { level: ClickHouseLogLevel.OFF },
      // The server closes idle connections after 3 s (keep_alive_timeout); reusing one it closed fails a request.
      keep_alive: { enabled: true, idle_socket_ttl: 1500 },
    });
  }

  async command(sql: string): Promise<void> {
    try {
      await this.#client.command({ query: sql });
    } catch (e) {
      classify(e);
    }
  }

  /** Rows of a query as arrays of TabSeparated-unescaped strings. */
  async rows(sql: string): Promise<string[][]> {
    try {
      const r = await this.#client.query({ query: sql, format: 'TabSeparated' });
      const text = await r.text();
      if (text === '') return [];
      return text
        .replace(/\n$/, '')
        .split('\n')
        .map((line) => line.split('\t').map(tsvUnescape));
    } catch (e) {
      classify(e);
    }
  }

  /**
   * Inserts `body` (in `format`) into `table` (db-qualified) with the given columns. Through `exec` with the body as
   * the request: the client's `insert` encodes JS values and knows no binary formats.
   */
  async insert(table: string, columns: readonly string[], format: string, body: Buffer): Promise<void> {
    try {
      const r = await this.#client.exec({
        query: `INSERT INTO ${table} (${columns.map((c) => `\`${c}\``).join(', ')}) FORMAT ${format}`,
        values: Readable.from([body], { objectMode: false }),
      });
      // The answer is empty; reading it to the end gives the socket back to the pool.
      for await (const _ of r.stream) {
      }
    } catch (e) {
      classify(e);
    }
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

export function tsvUnescape(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\(.)/g, (_, c: string) =>
    c === 't' ? '\t' : c === 'n' ? '\n' : c === '0' ? '\0' : c === 'r' ? '\r' : c === 'b' ? '\b' : c === 'f' ? '\f' : c,
  );
}
