import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { eventually } from '../helpers/payments';
import { freePort, migratedDataDir, waitFor } from '../helpers/process';
import { repeatsTheEmbeddedRun } from '../helpers/db';

const FIXTURE = join(import.meta.dir, '..', 'fixtures', 'slow-server.ts');

async function start(port: number, graceMs: number) {
  const dataDir = await migratedDataDir();
  return Bun.spawn([process.execPath, FIXTURE], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      NIMBUS_DATA_DIR: dataDir,
      NIMBUS_SHUTDOWN_GRACE_MS: String(graceMs),
      LOG_LEVEL: 'silent',
    },
    stdout: 'pipe',
    stderr: 'pipe',
  });
}

/** Waits until the server holds `count` slow requests (not a fixed sleep: a busy machine may take longer to deliver them). */
async function inFlight(base: string, count: number): Promise<void> {
  await eventually(async () => {
    const response = await fetch(`${base}/test/in-flight`, { headers: { connection: 'close' } });
    return ((await response.json()) as { in_flight: number }).in_flight >= count || undefined;
  }, { timeoutMs: 10_000, stepMs: 25 });
}

/** Whether a new connection is refused, polled briefly: the listener closes once the signal is handled. */
async function refusesConnections(base: string): Promise<boolean> {
  const attempt = () => fetch(`${base}/health/live`, { headers: { connection: 'close' } }).then(() => undefined, () => true as const);
  return eventually(attempt, { timeoutMs: 5_000, stepMs: 25 }).catch(() => false);
}

describe.skipIf(repeatsTheEmbeddedRun)('SIGTERM', () => {
  test('in-flight requests complete, new connections are refused, exit 0 within the grace period', async () => {
    const port = await freePort();
    const child = await start(port, 5000);
    const base = `http://127.0.0.1:${port}`;
    await waitFor(`${base}/health/ready`);

    const slow = [fetch(`${base}/test/slow?ms=2000`), fetch(`${base}/test/slow?ms=1500`)];
    let finished = false;
    void Promise.all(slow).then(() => (finished = true), () => (finished = true));
    await inFlight(base, 2);
    const signalledAt = Date.now();
    child.kill('SIGTERM');

    // The listener is closed: a new connection is refused while old requests finish.
    const refused = await refusesConnections(base);
    expect(refused).toBe(true);
    expect(finished).toBe(false);

    const responses = await Promise.all(slow);
    expect(responses.map((response) => response.status)).toEqual([200, 200]);
    expect(await responses[0]!.json()).toEqual({ done: true });

    expect(await child.exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(5000);
  }, 120_000);

  test('a request longer than the grace period is cut off and the process still exits 0', async () => {
    const port = await freePort();
    const child = await start(port, 500);
    const base = `http://127.0.0.1:${port}`;
    await waitFor(`${base}/health/ready`);
    const stuck = fetch(`${base}/test/slow?ms=10000`).then(
      (response) => response.status,
      () => 'cut',
    );
    await inFlight(base, 1);
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(4000);
    expect(await stuck).toBe('cut');
  }, 120_000);
});

describe.skipIf(repeatsTheEmbeddedRun)('the listening port', () => {
  // Elysia asks Bun for SO_REUSEPORT by default: a second server on a port already served
  // started without a word and the kernel split new connections between the two (a
  // drill's API replica and a worker that drew the same free port answered each other's
  // requests: 404 for POST /v1/payments). A port already in use is a start-up error.
  test('a second server on a port already served exits non-zero, naming the port; the first keeps every connection', async () => {
    const port = await freePort();
    const first = await start(port, 500);
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitFor(`${base}/health/ready`);
      const second = await start(port, 500);
      const exited = await Promise.race([second.exited, Bun.sleep(30_000).then(() => 'still running' as const)]);
      if (exited === 'still running') second.kill('SIGKILL');
      const stderr = await new Response(second.stderr).text();
      expect(exited).not.toBe('still running');
      expect(exited).not.toBe(0);
      expect(stderr).toContain(String(port));
      // Every new connection reaches the first server (its test route answers; nothing else listens).
      for (let i = 0; i < 20; i++) {
        const response = await fetch(`${base}/test/in-flight`, { headers: { connection: 'close' } });
        expect(response.status).toBe(200);
      }
    } finally {
      first.kill('SIGTERM');
      await first.exited;
    }
  }, 120_000);
});
