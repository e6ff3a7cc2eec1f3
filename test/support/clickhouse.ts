/**
 * Real ClickHouse servers for tests and benchmarks: each in a temp directory on loopback ports, kept small (2
 * threads, 16 MiB caches), all declared as shards of one cluster `ntrace_test` in `remote_servers`. `stop()` kills and
 * removes them; `kill()`/`restart()` let a test take one shard away and bring it back on the same ports and data.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLUSTER = 'ntrace_test';

export function clickhouseProblem(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v clickhouse-server'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : 'clickhouse-server is not installed (apt-get install clickhouse-server)';
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface ClickHouseServer {
  readonly url: string;
  readonly httpPort: number;
  readonly tcpPort: number;
  readonly dir: string;
  child: ChildProcess | undefined;
}

function config(s: ClickHouseServer, shards: readonly ClickHouseServer[]): string {
  const remote = shards
    .map((o) => `<shard><replica><host>127.0.0.1</host><port>${o.tcpPort}</port></replica></shard>`)
    .join('');
  return `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${s.dir}/log/server.log</log><errorlog>${s.dir}/log/err.log</errorlog><size>10M</size><count>1</count></logger>
  <http_port>${s.httpPort}</http_port>
  <tcp_port>${s.tcpPort}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${s.dir}/data/</path>
  <tmp_path>${s.dir}/tmp/</tmp_path>
  <user_files_path>${s.dir}/user_files/</user_files_path>
  <format_schema_path>${s.dir}/format_schemas/</format_schema_path>
  <mark_cache_size>16777216</mark_cache_size>
  <uncompressed_cache_size>16777216</uncompressed_cache_size>
  <max_concurrent_queries>20</max_concurrent_queries>
  <keep_alive_timeout>3</keep_alive_timeout>
  <users_config>${s.dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <remote_servers><${CLUSTER}>${remote}</${CLUSTER}></remote_servers>
</yandex>
`;
}

const USERS = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_threads>2</max_threads><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`;

async function waitUp(s: ClickHouseServer, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (s.child?.exitCode !== null && s.child?.exitCode !== undefined)
      throw new Error(`clickhouse-server exited (${s.dir})`);
    try {
      const r = await fetch(`${s.url}/ping`);
      if (r.ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`clickhouse-server did not start in ${ms} ms (${s.dir})`);
}

export class ClickHouseCluster {
  readonly servers: ClickHouseServer[] = [];
  readonly #root: string;

  private constructor(root: string) {
    this.#root = root;
  }

  /** Starts `n` servers (all shards of `ntrace_test`). Stop them with `stop()`, also on failure. */
  static async start(n: number): Promise<ClickHouseCluster> {
    const c = new ClickHouseCluster(mkdtempSync(join(tmpdir(), 'ntrace-ch-')));
    try {
      for (let i = 0; i < n; i++) {
        const httpPort = await freePort();
        const tcpPort = await freePort();
        const dir = join(c.#root, `s${i}`);
        c.servers.push({ url: `http://127.0.0.1:${httpPort}`, httpPort, tcpPort, dir, child: undefined });
      }
      for (const s of c.servers) {
        for (const d of ['log', 'data', 'tmp', 'user_files', 'format_schemas'])
          mkdirSync(join(s.dir, d), { recursive: true });
        writeFileSync(join(s.dir, 'config.xml'), config(s, c.servers));
        writeFileSync(join(s.dir, 'users.xml'), USERS);
      }
      await Promise.all(c.servers.map((s) => c.restart(s)));
      return c;
    } catch (e) {
      await c.stop();
      throw e;
    }
  }

  /**
   * Starts (again) server `s` on its ports and data. Under `setpriv --pdeathsig KILL` (util-linux, always there on
   * Debian): the server dies with this process even when it is killed before `stop()` can run.
   */
  async restart(s: ClickHouseServer): Promise<void> {
    s.child = spawn(
      'setpriv',
      ['--pdeathsig', 'KILL', 'clickhouse-server', `--config-file=${join(s.dir, 'config.xml')}`],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    );
    await waitUp(s);
  }

  /** SIGKILLs server `s` and waits for it to be gone. */
  async kill(s: ClickHouseServer): Promise<void> {
    const child = s.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }

  /** One query over HTTP, the answer's text (TabSeparated). */
  async query(sql: string, server = this.servers[0]): Promise<string> {
    const r = await fetch(`${server.url}/`, { method: 'POST', body: sql });
    const text = await r.text();
    if (!r.ok) throw new Error(`${sql}: ${text}`);
    return text;
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => this.kill(s)));
    rmSync(this.#root, { recursive: true, force: true });
  }
}
