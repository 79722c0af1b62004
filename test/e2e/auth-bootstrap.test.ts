import { afterAll, describe, expect, test } from 'bun:test';
import { backend, createTestDatabase, type TestDatabase } from '../helpers/db';
import { freePort, spawnNimbus, tempDir, waitFor } from '../helpers/process';

/** `nimbus bootstrap [--json]` and the development first start (API.md "Running it"). */

const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const database of databases) await database.close();
});

/** A fresh, empty database for one child process: a data directory, or a new database on the PostgreSQL run. */
async function freshDatabase(): Promise<Record<string, string>> {
  if (backend === 'pglite') return { NIMBUS_DATA_DIR: tempDir() };
  const database = await createTestDatabase();
  databases.push(database);
  return { DATABASE_URL: database.url! };
}

async function run(args: string[], env: Record<string, string>) {
  const child = spawnNimbus(args, env);
  const code = await child.exited;
  return { code, stdout: await new Response(child.stdout).text(), stderr: await new Response(child.stderr).text() };
}

async function tokenFor(base: string, clientId: string, clientSecret: string): Promise<Response> {
  return fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
    },
    body: 'grant_type=client_credentials',
  });
}

async function serving<T>(env: Record<string, string>, fn: (base: string, stdout: () => Promise<string>) => Promise<T>): Promise<T> {
  const port = await freePort();
  const child = spawnNimbus(['serve', '--no-worker'], { ...env, PORT: String(port) });
  const base = `http://127.0.0.1:${port}`;
  let output = '';
  const reader = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) output += decoder.decode(chunk);
  })();
  try {
    await waitFor(`${base}/health/ready`);
    return await fn(base, async () => output);
  } finally {
    child.kill('SIGTERM');
    await child.exited;
    await reader;
  }
}

describe('nimbus bootstrap', () => {
  test('--json prints only the credentials line; they get a platform token from the server', async () => {
    const database = await freshDatabase();
    const result = await run(['bootstrap', '--json'], database);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const credentials = JSON.parse(lines[0]!) as { client_id: string; client_secret: string; scopes: string[] };
    expect(credentials.client_id).toMatch(/^cli_/);
    expect(credentials.scopes.sort()).toEqual(['platform:admin', 'platform:support']);
    expect(result.stderr).not.toContain(credentials.client_secret);

    await serving({ ...database, LOG_LEVEL: 'silent' }, async (base, stdout) => {
      const response = await tokenFor(base, credentials.client_id, credentials.client_secret);
      expect(response.status).toBe(200);
      const { access_token } = (await response.json()) as { access_token: string };
      expect((await fetch(`${base}/v1/tenants`, { headers: { authorization: `Bearer ${access_token}` } })).status).toBe(200);
      // Not an empty database: no demo credentials printed.
      expect(await stdout()).not.toContain('first start');
    });
  }, 60_000);

  test('without --json it prints the credentials for a person with a ready curl', async () => {
    const result = await run(['bootstrap'], { ...(await freshDatabase()), LOG_LEVEL: 'silent' });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('client_secret');
    expect(result.stdout).toMatch(/curl -s -u 'cli_[A-Za-z0-9]+:cs_[A-Za-z0-9_-]+' -d grant_type=client_credentials http:\/\/127\.0\.0\.1:3000\/oauth\/token/);
  }, 90_000);
});

describe('development first start', () => {
  test('an empty database gets a platform admin and a demo tenant; the printed credentials work', async () => {
    await serving({ ...(await freshDatabase()), LOG_LEVEL: 'silent' }, async (base, stdout) => {
      const text = await stdout();
      const demo = /Demo tenant\s+tenant=(ten_\w+)\s+client_id=(cli_\w+)\s+client_secret=(\S+)/.exec(text);
      const admin = /Platform admin\s+client_id=(cli_\w+)\s+client_secret=(\S+)/.exec(text);
      expect(demo).not.toBeNull();
      expect(admin).not.toBeNull();
      expect(text).toContain(`curl -s -u '${demo![2]}:${demo![3]}' -d grant_type=client_credentials ${base}/oauth/token`);
      const tenantToken = await tokenFor(base, demo![2]!, demo![3]!);
      const { access_token } = (await tenantToken.json()) as { access_token: string };
      expect((await fetch(`${base}/v1/clients`, { headers: { authorization: `Bearer ${access_token}` } })).status).toBe(200);
      expect((await tokenFor(base, admin![1]!, admin![2]!)).status).toBe(200);
    });
  }, 60_000);
});
