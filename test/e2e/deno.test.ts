import { afterAll, describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { Subprocess } from 'bun';
import postgres from 'postgres';
import { freePort, tempDir } from '../helpers/process';
import { repeatsTheEmbeddedRun } from '../helpers/db';

/**
 * main.deno.ts: the same app served by `Deno.serve`, started with the documented command
 * (package.json "start:deno", deno from node_modules) on the embedded database and on the
 * real PostgreSQL; a payment goes through, and SIGTERM drains and exits 0.
 */

const ROOT = join(import.meta.dir, '..', '..');
const DENO = join(ROOT, 'node_modules', '.bin', 'deno');
/**
 * Deno compiles and caches the tree on its first run, and a fresh embedded database runs
 * initdb and the migrations: a first start took 33 s on 2 busy CPUs, so allow 90 s.
 */
const START_TIMEOUT_MS = 90_000;

function denoWorks(): boolean {
  if (!existsSync(DENO)) return false;
  try {
    return Bun.spawnSync([DENO, '--version'], { stdout: 'ignore', stderr: 'ignore' }).exitCode === 0;
  } catch {
    return false;
  }
}

/** The arguments after `deno` in package.json's "start:deno", so the test runs what the docs say. */
function startArgs(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const [command, ...args] = pkg.scripts['start:deno']!.trim().split(/\s+/);
  if (command !== 'deno' || args[0] !== 'run' || args.at(-1) !== 'main.deno.ts') {
    throw new Error(`unexpected "start:deno" script: ${pkg.scripts['start:deno']}`);
  }
  return args;
}

/** The server run 2 uses: TEST_DATABASE_URL's (as in CI), else the local default. */
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function reachable(url: string, timeoutMs = 1000): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 5432) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const hasDeno = denoWorks();
const hasPostgres = hasDeno && (await reachable(ADMIN_URL));
if (!hasDeno) console.log(`deno.test.ts: SKIPPED, no working deno binary at ${DENO} (run npm ci)`);
else if (!hasPostgres) console.log(`deno.test.ts: PostgreSQL half SKIPPED, ${new URL(ADMIN_URL).host} is unreachable`);

interface DenoServer {
  base: string;
  child: Subprocess<'ignore', 'pipe', 'pipe'>;
  stdout(): string;
  stderr(): string;
}

/** For failure messages: stderr, and the end of stdout (the JSON log lines, errors with their stacks). */
const diagnostics = (server: DenoServer) => `${server.stderr()}\n${server.stdout().slice(-4000)}`;

const children: Subprocess[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const cleanup of cleanups) await cleanup().catch(() => {});
});

/** Starts `deno run ... main.deno.ts` on a free loopback port; resolves once /health/ready answers 200. */
async function startDeno(env: Record<string, string>): Promise<DenoServer> {
  const port = await freePort();
  const child = Bun.spawn([DENO, ...startArgs()], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      NO_COLOR: '1',
      DENO_NO_UPDATE_CHECK: '1',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  children.push(child);
  let out = '';
  let err = '';
  const drain = async (stream: ReadableStream<Uint8Array>, append: (text: string) => void) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) append(decoder.decode(chunk, { stream: true }));
  };
  void drain(child.stdout, (text) => (out += text));
  void drain(child.stderr, (text) => (err += text));
  const server: DenoServer = { base: `http://127.0.0.1:${port}`, child, stdout: () => out, stderr: () => err };

  const deadline = Date.now() + START_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`deno exited with ${child.exitCode} before it was ready:\n${err}${out}`);
    try {
      const response = await fetch(`${server.base}/health/ready`, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return server;
      last = `status ${response.status}`;
    } catch (error) {
      last = String(error);
    }
    await Bun.sleep(200);
  }
  child.kill('SIGKILL');
  throw new Error(`deno did not answer /health/ready 200 within ${START_TIMEOUT_MS} ms (${last}):\n${err}${out}`);
}

/** The demo tenant's credentials, printed on the development first start. */
async function demoCredentials(server: DenoServer): Promise<{ clientId: string; clientSecret: string }> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const match = /Demo tenant\s+tenant=ten_\w+\s+client_id=(cli_\w+)\s+client_secret=(\S+)/.exec(server.stdout());
    if (match) return { clientId: match[1]!, clientSecret: match[2]! };
    await Bun.sleep(50);
  }
  throw new Error(`no demo tenant credentials on stdout:\n${diagnostics(server)}`);
}

/** Token for the demo tenant, one card payment, then SIGTERM: the whole check for one database. */
async function paysAndDrains(env: Record<string, string>): Promise<void> {
  const server = await startDeno(env);
  const { clientId, clientSecret } = await demoCredentials(server);

  const tokenResponse = await fetch(`${server.base}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
    },
    body: 'grant_type=client_credentials',
    signal: AbortSignal.timeout(10_000),
  });
  const tokenText = await tokenResponse.text();
  expect(tokenResponse.status, `POST /oauth/token: ${tokenText}\n${diagnostics(server)}`).toBe(200);
  const { access_token } = JSON.parse(tokenText) as { access_token: string };

  const paymentResponse = await fetch(`${server.base}/v1/payments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json', 'idempotency-key': `deno-${randomBytes(8).toString('hex')}` },
    body: JSON.stringify({
      amount: 2000,
      currency: 'EUR',
      payment_method: { type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2030, cvc: '123' } },
    }),
    signal: AbortSignal.timeout(10_000),
  });
  const paymentText = await paymentResponse.text();
  expect(paymentResponse.status, `POST /v1/payments: ${paymentText}\n${diagnostics(server)}`).toBe(201);
  const payment = JSON.parse(paymentText) as { id: string; status: string; amount: number };
  expect(payment.status).toBe('succeeded');
  expect(payment.amount).toBe(2000);

  server.child.kill('SIGTERM');
  const code = await Promise.race([server.child.exited, Bun.sleep(15_000).then(() => 'still running after 15 s')]);
  expect(code, diagnostics(server)).toBe(0);
}

describe.skipIf(!hasDeno || repeatsTheEmbeddedRun)('main.deno.ts (Deno.serve)', () => {
  test('embedded database (NIMBUS_DATA_DIR): a card payment succeeds, SIGTERM exits 0', async () => {
    await paysAndDrains({ NIMBUS_DATA_DIR: join(tempDir('nimbus-deno-'), 'data') });
  }, START_TIMEOUT_MS + 45_000);

  test.skipIf(!hasPostgres)('PostgreSQL (DATABASE_URL, a fresh database): a card payment succeeds, SIGTERM exits 0', async () => {
    const base = new URL(ADMIN_URL).pathname.replace(/^\//, '') || 'nimbus';
    const name = `${base}_deno_${randomBytes(5).toString('hex')}`.toLowerCase();
    const admin = postgres(ADMIN_URL, { max: 1, connect_timeout: 5, onnotice: () => {} });
    cleanups.push(async () => {
      await admin.unsafe(`drop database if exists "${name}" with (force)`).catch(() => {});
      await admin.end({ timeout: 5 });
    });
    await admin.unsafe(`create database "${name}"`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    await paysAndDrains({ DATABASE_URL: url.toString() });
  }, START_TIMEOUT_MS + 45_000);
});
