import { describe, expect, test } from 'bun:test';
import { freePort, spawnNimbus, tempDir, waitFor } from '../helpers/process';

async function exitOf(args: string[], env: Record<string, string>) {
  const child = spawnNimbus(args, env);
  const code = await child.exited;
  return { code, stderr: await new Response(child.stderr).text(), stdout: await new Response(child.stdout).text() };
}

describe('nimbus CLI', () => {
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
    const child = spawnNimbus(['serve'], { PORT: String(port), NIMBUS_DATA_DIR: tempDir(), LOG_LEVEL: 'silent' });
    try {
      await waitFor(`http://127.0.0.1:${port}/health/ready`);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await child.exited).toBe(0);
  }, 40_000);
});
