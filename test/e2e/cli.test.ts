import { describe, expect, test } from 'bun:test';
import { freePort, migratedDataDir, spawnNimbus, tempDir, waitFor } from '../helpers/process';
import { repeatsTheEmbeddedRun } from '../helpers/db';

async function exitOf(args: string[], env: Record<string, string>) {
  const child = spawnNimbus(args, env);
  const code = await child.exited;
  return { code, stderr: await new Response(child.stderr).text(), stdout: await new Response(child.stdout).text() };
}

describe.skipIf(repeatsTheEmbeddedRun)('nimbus CLI', () => {
  test.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ NIMBUS_ENV: 'qa' }, 'NIMBUS_ENV'],
    [{ NIMBUS_ENV: 'production' }, 'DATABASE_URL'],
  ])('bad configuration %p exits non-zero naming %s', async (env, variable) => {
    const result = await exitOf(['serve'], env as Record<string, string>);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`${variable}:`);
  });

  test('an unknown command or flag exits non-zero with usage', async () => {
    expect((await exitOf(['frobnicate'], {})).code).not.toBe(0);
    expect((await exitOf(['serve', '--bogus'], {})).stderr).toContain('--bogus');
  });

  test('migrate applies migrations to the embedded database and exits 0', async () => {
    const result = await exitOf(['migrate'], { NIMBUS_DATA_DIR: tempDir(), LOG_LEVEL: 'silent' });
    expect(result.code).toBe(0);
  });

  test('serve answers /health/ready on the embedded database, then SIGTERM exits 0', async () => {
    const port = await freePort();
    const child = spawnNimbus(['serve'], { PORT: String(port), NIMBUS_DATA_DIR: await migratedDataDir(), LOG_LEVEL: 'silent' });
    try {
      await waitFor(`http://127.0.0.1:${port}/health/ready`);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await child.exited).toBe(0);
  }, 90_000);
});

describe.skipIf(repeatsTheEmbeddedRun)('embedded database held by a running server', () => {
  test('bootstrap goes through the server; a second serve on the same data dir refuses to start', async () => {
    const port = await freePort();
    const dataDir = `${tempDir()}/data`;
    const env = { PORT: String(port), NIMBUS_DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
    const server = spawnNimbus(['serve'], env);
    try {
      await waitFor(`http://127.0.0.1:${port}/health/ready`);
      const bootstrap = await exitOf(['bootstrap', '--json'], env);
      expect(bootstrap.code).toBe(0);
      const lines = bootstrap.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      const credentials = JSON.parse(lines[0]!) as { client_id: string; client_secret: string; scopes: string[] };
      expect(credentials.scopes).toEqual(['platform:admin', 'platform:support']);
      // The credentials work against the running server.
      const token = await fetch(`http://127.0.0.1:${port}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `grant_type=client_credentials&client_id=${credentials.client_id}&client_secret=${encodeURIComponent(credentials.client_secret)}`,
      });
      expect(token.status).toBe(200);

      const second = await exitOf(['serve'], { ...env, PORT: String(await freePort()) });
      expect(second.code).not.toBe(0);
      expect(second.stderr).toContain('NIMBUS_DATA_DIR');
      // The hidden route refuses callers without the local token.
      const forged = await fetch(`http://127.0.0.1:${port}/internal/local/bootstrap`, { method: 'POST' });
      expect(forged.status).toBe(401);
    } finally {
      server.kill('SIGTERM');
      await server.exited;
    }
  }, 60_000);
});
