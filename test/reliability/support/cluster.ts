/**
 * A NimbusPay deployment for one drill: a fresh database on the real PostgreSQL, and real
 * `main.ts serve --no-worker` / `main.ts worker` processes on loopback sharing it, the way
 * replicas run in production. Processes can be killed (SIGKILL) and started again on the
 * same port. Everything is torn down by `stop()`, including the database.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import type { Subprocess } from 'bun';
import { freePort } from '../../helpers/process';
import { ADMIN_URL, DB_PREFIX, ROOT } from './env';

export type Sql = ReturnType<typeof postgres>;

export interface DrillDatabase {
  name: string;
  url: string;
  /** A small pool (2) for the drill's own checks. */
  sql: Sql;
  drop(): Promise<void>;
}

export function adminSql(): Sql {
  return postgres(ADMIN_URL, { max: 1, onnotice: () => {}, connect_timeout: 5, idle_timeout: 5 });
}

export async function createDrillDatabase(label: string): Promise<DrillDatabase> {
  const name = `${DB_PREFIX}_${label}_${randomBytes(3).toString('hex')}`.toLowerCase();
  const admin = adminSql();
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const sql = postgres(url.toString(), { max: 2, onnotice: () => {}, connect_timeout: 5, idle_timeout: 10 });
  return {
    name,
    url: url.toString(),
    sql,
    async drop() {
      await sql.end({ timeout: 2 }).catch(() => undefined);
      const dropper = adminSql();
      try {
        await dropper.unsafe(`drop database if exists "${name}" with (force)`);
      } catch {
        // PostgreSQL may be restarting (3b); the runner drops leftovers by prefix.
      } finally {
        await dropper.end({ timeout: 2 }).catch(() => undefined);
      }
    },
  };
}

/** Runs `fn` until it stops throwing (a restart or an outage can cut the drill's own connection). */
export async function retrying<T>(fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await Bun.sleep(250);
    }
  }
}

export type Role = 'api' | 'worker' | 'serve';

export interface NodeProcess {
  name: string;
  role: Role;
  port: number;
  url: string;
  pid(): number;
  alive(): boolean;
  /** The last 64 KiB of what the process wrote (stdout and stderr). */
  output(): string;
  /** Log lines at level error (50) or fatal (60) so far, over every incarnation. */
  errorLines(): string[];
  kill(signal?: 'SIGKILL' | 'SIGTERM'): Promise<number | null>;
  start(): Promise<void>;
  rssMb(): number;
  restarts: number;
  /** Exits nobody asked for (not a kill() of the drill), with the crash's last output. */
  crashes: Array<{ at: number; code: number | null; output: string }>;
}

function rssOf(pid: number): number {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    return kb / 1024;
  } catch {
    return 0;
  }
}

/** The environment every process of a drill shares (one callback secret: replicas verify each other's callbacks). */
export function baseEnv(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NIMBUS_ENV: 'development',
    DATABASE_URL: databaseUrl,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    NIMBUS_WEBHOOK_ALLOW_PRIVATE: 'true',
    NIMBUS_SIMULATOR_CALLBACK_SECRET: `drill-callback-${randomBytes(12).toString('hex')}`,
    NIMBUS_SIMULATOR_SETTLE_MS: '1000',
    // One issuer for every replica, as behind a load balancer (the development default is http://HOST:PORT).
    NIMBUS_ISSUER: 'http://nimbus-drill.invalid',
    // Fast reconciliation, but a payment is only failed as "never arrived" after 1+2+4+8 s of
    // not_found answers: longer than a processor call may take (10 s timeout), so a call still
    // in flight is never mistaken for one that never happened.
    NIMBUS_RECONCILE_AFTER_MS: '1000',
    NIMBUS_RECONCILE_NOT_FOUND_LIMIT: '4',
    NIMBUS_TOKEN_TTL_S: '3600',
    NIMBUS_SHUTDOWN_GRACE_MS: '3000',
    NIMBUS_WEBHOOK_POLL_MS: '250',
    // A delivery whose outcome could not be recorded (the database went away mid-attempt)
    // is sent again when its lease runs out: 10 s instead of 60 keeps the drills short.
    NIMBUS_WEBHOOK_LEASE_MS: '10000',
    NIMBUS_WEBHOOK_RETRY_DELAYS_MS: '500,1000,2000,4000,8000',
    ...extra,
  };
}

export function nodeProcess(name: string, role: Role, port: number, env: Record<string, string>): NodeProcess {
  let child: Subprocess<'ignore', 'pipe', 'pipe'> | undefined;
  let killing = false;
  let buffer = '';
  const errors: string[] = [];
  const args = role === 'api' ? ['serve', '--no-worker'] : role === 'worker' ? ['worker'] : ['serve'];
  const url = `http://127.0.0.1:${port}`;

  function drain(stream: ReadableStream<Uint8Array>): void {
    void (async () => {
      const decoder = new TextDecoder();
      let partial = '';
      try {
        for await (const chunk of stream) {
          const text = decoder.decode(chunk, { stream: true });
          buffer += text;
          if (buffer.length > 128 * 1024) buffer = buffer.slice(-64 * 1024);
          partial += text;
          const lines = partial.split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) {
            // pino level 50/60 (or their labels), or a crash report on stderr.
            if (/"level":(50|60|"error"|"fatal")|^\w*Error: |^error: /.test(line) && errors.length < 200) errors.push(line.slice(0, 600));
          }
        }
      } catch {
        // the process died; its output ends here
      }
    })();
  }

  const node: NodeProcess = {
    name,
    role,
    port,
    url,
    restarts: 0,
    crashes: [],
    pid: () => child?.pid ?? 0,
    alive: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    output: () => buffer,
    errorLines: () => errors,
    rssMb: () => (child ? rssOf(child.pid) : 0),
    async kill(signal = 'SIGKILL') {
      if (!child) return null;
      const running = child;
      killing = true;
      running.kill(signal);
      const code = await Promise.race([running.exited, Bun.sleep(15_000).then(() => 'timeout' as const)]);
      if (code === 'timeout') {
        running.kill('SIGKILL');
        await running.exited;
        return null;
      }
      return code;
    },
    async start() {
      if (child && node.alive()) throw new Error(`${name} is already running`);
      if (child) node.restarts += 1;
      killing = false;
      child = Bun.spawn([process.execPath, join(ROOT, 'main.ts'), ...args], {
        cwd: ROOT,
        env: { ...env, PORT: String(port) },
        stdin: 'ignore',
        stdout: 'pipe',
        stderr: 'pipe',
      });
      drain(child.stdout);
      drain(child.stderr);
      const spawned = child;
      void spawned.exited.then((code) => {
        if (!killing && spawned === child) node.crashes.push({ at: Date.now(), code, output: buffer.slice(-2500) });
      });
      const deadline = Date.now() + 90_000;
      while (Date.now() < deadline) {
        if (!node.alive()) throw new Error(`${name} exited during start:\n${buffer.slice(-3000)}`);
        const ok = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status === 200, () => false);
        if (ok) return;
        await Bun.sleep(100);
      }
      child.kill('SIGKILL');
      throw new Error(`${name} was not ready within 90 s:\n${buffer.slice(-3000)}`);
    },
  };
  return node;
}

export interface Credentials {
  clientId: string;
  clientSecret: string;
}

export interface Cluster {
  database: DrillDatabase;
  nodes: NodeProcess[];
  api: NodeProcess[];
  workers: NodeProcess[];
  credentials: Credentials;
  token: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Starts the first API process alone (it migrates the empty database and prints the demo
 * tenant's credentials), then the others side by side.
 */
export async function startCluster(options: {
  label: string;
  api: number;
  workers: number;
  /** `serve` with the worker in-process instead of `serve --no-worker`. */
  inProcessWorker?: boolean;
  env?: Record<string, string>;
  /** Per-process additions, by process name (api-1, api-2, worker-1, ...). */
  envFor?: Record<string, Record<string, string>>;
  /** Overrides DATABASE_URL for the processes (a proxy in front of the database). */
  databaseUrlForNodes?: (database: DrillDatabase) => string;
}): Promise<Cluster> {
  const database = await createDrillDatabase(options.label);
  const nodes: NodeProcess[] = [];
  try {
    const env = baseEnv(options.databaseUrlForNodes?.(database) ?? database.url, options.env);
    const make = async (name: string, role: Role) => nodeProcess(name, role, await freePort(), { ...env, ...options.envFor?.[name] });
    for (let i = 1; i <= options.api; i++) nodes.push(await make(`api-${i}`, options.inProcessWorker ? 'serve' : 'api'));
    for (let i = 1; i <= options.workers; i++) nodes.push(await make(`worker-${i}`, 'worker'));
    await nodes[0]!.start();
    const match = /Demo tenant\s+tenant=\S+\s+client_id=(\S+)\s+client_secret=(\S+)/.exec(nodes[0]!.output());
    if (!match) throw new Error(`no demo tenant credentials in the first start's output:\n${nodes[0]!.output().slice(0, 3000)}`);
    const credentials = { clientId: match[1]!, clientSecret: match[2]! };
    await Promise.all(nodes.slice(1).map((node) => node.start()));
    const token = await fetchToken(nodes[0]!.url, credentials);
    return {
      database,
      nodes,
      api: nodes.filter((node) => node.role !== 'worker'),
      workers: nodes.filter((node) => node.role === 'worker'),
      credentials,
      token,
      env,
      async stop() {
        await Promise.all(nodes.map((node) => node.kill('SIGTERM').catch(() => null)));
        // NIMBUS_DRILL_KEEP_DB=1 keeps the database for a look after a failed drill (drop it by hand).
        if (process.env.NIMBUS_DRILL_KEEP_DB === '1') {
          console.log(`kept database ${database.name}`);
          await database.sql.end({ timeout: 2 }).catch(() => undefined);
        } else await database.drop();
      },
    };
  } catch (error) {
    await Promise.all(nodes.map((node) => node.kill('SIGKILL').catch(() => null)));
    await database.drop();
    throw error;
  }
}

export async function fetchToken(baseUrl: string, credentials: Credentials): Promise<string> {
  const response = await fetch(`${baseUrl}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${credentials.clientId}:${credentials.clientSecret}`).toString('base64')}`,
    },
    body: 'grant_type=client_credentials',
    signal: AbortSignal.timeout(15_000),
  });
  if (response.status !== 200) throw new Error(`token endpoint answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** One scrape of a process's /metrics, as `name{labels}` -> value. */
export async function scrape(node: NodeProcess): Promise<Map<string, number>> {
  const metrics = new Map<string, number>();
  const text = await fetch(`${node.url}/metrics`, { signal: AbortSignal.timeout(5000) }).then((r) => r.text(), () => '');
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    metrics.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return metrics;
}

/** Sum of every series of `name` whose labels contain all of `labels` (e.g. 'kind="timeout"'). */
export function metricSum(metrics: Map<string, number>, name: string, ...labels: string[]): number {
  let total = 0;
  for (const [series, value] of metrics) {
    const bare = series.split('{')[0];
    if (bare !== name) continue;
    if (labels.every((label) => series.includes(label))) total += value;
  }
  return total;
}

/** Connections the drill database has open right now (every process's pool, the drill's own too). */
export async function openConnections(database: DrillDatabase): Promise<number> {
  const admin = adminSql();
  try {
    const [row] = await admin`select count(*)::int as n from pg_stat_activity where datname = ${database.name}`;
    return (row as { n: number }).n;
  } finally {
    await admin.end({ timeout: 2 });
  }
}

/** pg_terminate_backend on every connection of the drill database, and only of it. */
export async function terminateBackends(database: DrillDatabase): Promise<number> {
  const admin = adminSql();
  try {
    const rows = await admin`select pg_terminate_backend(pid) as done from pg_stat_activity
      where datname = ${database.name} and pid <> pg_backend_pid()`;
    return rows.filter((row) => (row as { done: boolean }).done).length;
  } finally {
    await admin.end({ timeout: 2 });
  }
}

/** Polls /health/ready every `everyMs`, recording transitions, until stopped. */
export function watchReadiness(node: NodeProcess, everyMs = 100) {
  const seen: Array<{ at: number; status: number }> = [];
  let last = -1;
  let stopped = false;
  let slowestMs = 0;
  let noAnswer = 0;
  const loop = (async () => {
    while (!stopped) {
      const asked = Date.now();
      // 0: no answer within 3 s (a probe that hangs), or the process is gone.
      const status = await fetch(`${node.url}/health/ready`, { signal: AbortSignal.timeout(3000) }).then((r) => r.status, () => 0);
      slowestMs = Math.max(slowestMs, Date.now() - asked);
      if (status === 0) noAnswer += 1;
      if (status !== last) {
        // Stamped when the answer came: a probe sent just before an outage began answers
        // 503 after it began (stamped with its sending time, the drill had counted that
        // replica as never 503).
        seen.push({ at: Date.now(), status });
        last = status;
      }
      await Bun.sleep(everyMs);
    }
  })();
  return {
    transitions: seen,
    slowestMs: () => slowestMs,
    noAnswer: () => noAnswer,
    async stop() {
      stopped = true;
      await loop;
      return seen;
    },
  };
}
