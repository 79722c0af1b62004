/**
 * Benchmark plumbing: a fresh database on the real PostgreSQL, the NimbusPay server as a
 * separate process (`main.ts serve`, as a deployment runs it), its RSS, and a token.
 * Everything targets loopback and is torn down by `stop()`.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import postgres from 'postgres';
import type { Subprocess } from 'bun';

export const ROOT = join(import.meta.dir, '..', '..');
export const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A database made for this run (dropped by `drop`), so figures never depend on old rows. */
export async function freshDatabase(): Promise<BenchDatabase> {
  const name = `nimbus_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const dropper = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`drop database if exists "${name}" with (force)`).catch(() => undefined);
      await dropper.end();
    },
  };
}

export interface RunningServer {
  url: string;
  pid: number;
  /** From spawn to the first 200 of /health/ready, in ms. */
  coldStartMs: number;
  /** The demo tenant's credentials printed by the development first start. */
  demo: { clientId: string; clientSecret: string };
  rssMb(): number;
  stop(): Promise<void>;
}

function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return kb / 1024;
  } catch {
    return 0;
  }
}

/**
 * `nimbus serve` (or `command`) on the given database, development mode (it migrates and
 * prints a demo tenant's credentials on the first start), request logs at LOG_LEVEL
 * (default info, as deployed). Once the demo credentials are known (every start after the
 * first), stdout goes to /dev/null by the OS: the benchmark does not read the logs.
 */
export async function startServer(
  databaseUrl: string,
  options: { env?: Record<string, string>; args?: string[]; demo?: RunningServer['demo']; bunFlags?: string[]; command?: string } = {},
): Promise<RunningServer> {
  const { env = {}, args = [], bunFlags = [], command = 'serve' } = options;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child: Subprocess<'ignore', 'pipe' | 'ignore', 'ignore'> = Bun.spawn([process.execPath, ...bunFlags, join(ROOT, 'main.ts'), command, ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      NIMBUS_ENV: 'development',
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      NIMBUS_SIMULATOR_LATENCY_MS: '0',
      NIMBUS_WEBHOOK_ALLOW_PRIVATE: 'true',
      ...env,
    },
    stdin: 'ignore',
    stdout: options.demo ? 'ignore' : 'pipe',
    stderr: 'ignore',
  });
  let output = '';
  const stdout = child.stdout;
  const reader = (async () => {
    if (!stdout || typeof stdout === 'number') return;
    for await (const chunk of stdout) {
      output += new TextDecoder().decode(chunk);
      if (output.length > 200_000) output = output.slice(-100_000);
    }
  })();
  let coldStartMs = 0;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const ok = await fetch(`${url}/health/ready`).then((r) => r.status === 200, () => false);
    if (ok) {
      coldStartMs = performance.now() - started;
      break;
    }
    await Bun.sleep(20);
  }
  if (!coldStartMs) {
    child.kill('SIGKILL');
    throw new Error(`nimbus serve did not become ready within 60 s:\n${output.slice(-2000)}`);
  }
  // Printed by the first start on an empty database only; later starts reuse them.
  const match = /Demo tenant\s+tenant=\S+\s+client_id=(\S+)\s+client_secret=(\S+)/.exec(output);
  const demo = options.demo ?? (match ? { clientId: match[1]!, clientSecret: match[2]! } : undefined);
  if (!demo) throw new Error(`no demo tenant credentials on stdout:\n${output.slice(0, 2000)}`);
  return {
    url,
    pid: child.pid,
    coldStartMs,
    demo,
    rssMb: () => rssOf(child.pid),
    async stop() {
      child.kill('SIGTERM');
      const exited = await Promise.race([child.exited, Bun.sleep(15_000).then(() => 'timeout' as const)]);
      if (exited === 'timeout') child.kill('SIGKILL');
      await reader.catch(() => undefined);
    },
  };
}

export async function accessToken(server: RunningServer): Promise<string> {
  const response = await fetch(`${server.url}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${server.demo.clientId}:${server.demo.clientSecret}`).toString('base64')}`,
    },
    body: 'grant_type=client_credentials',
  });
  if (response.status !== 200) throw new Error(`token endpoint answered ${response.status}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** Samples a process's RSS every `everyMs` until stopped; reports the peak. */
export function sampleRss(read: () => number, everyMs = 200): { stop(): number } {
  let peak = read();
  const timer = setInterval(() => {
    peak = Math.max(peak, read());
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, read());
    },
  };
}
