import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { freePort, tempDir, waitFor } from '../helpers/process';

const FIXTURE = join(import.meta.dir, '..', 'fixtures', 'slow-server.ts');

function start(port: number, graceMs: number) {
  return Bun.spawn([process.execPath, FIXTURE], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      NIMBUS_DATA_DIR: tempDir(),
      NIMBUS_SHUTDOWN_GRACE_MS: String(graceMs),
      LOG_LEVEL: 'silent',
    },
    stdout: 'pipe',
    stderr: 'pipe',
  });
}

describe('SIGTERM', () => {
  test('in-flight requests complete, new connections are refused, exit 0 within the grace period', async () => {
    const port = await freePort();
    const child = start(port, 5000);
    const base = `http://127.0.0.1:${port}`;
    await waitFor(`${base}/health/ready`);

    const inFlight = [fetch(`${base}/test/slow?ms=1200`), fetch(`${base}/test/slow?ms=800`)];
    await Bun.sleep(200);
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    await Bun.sleep(150);

    // The listener is closed: a new connection is refused while old requests finish.
    const refused = await fetch(`${base}/health/live`).then(
      () => false,
      () => true,
    );
    expect(refused).toBe(true);

    const responses = await Promise.all(inFlight);
    expect(responses.map((response) => response.status)).toEqual([200, 200]);
    expect(await responses[0]!.json()).toEqual({ done: true });

    expect(await child.exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(5000);
  }, 30_000);

  test('a request longer than the grace period is cut off and the process still exits 0', async () => {
    const port = await freePort();
    const child = start(port, 500);
    const base = `http://127.0.0.1:${port}`;
    await waitFor(`${base}/health/ready`);
    const stuck = fetch(`${base}/test/slow?ms=10000`).then(
      (response) => response.status,
      () => 'cut',
    );
    await Bun.sleep(200);
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(4000);
    expect(await stuck).toBe('cut');
  }, 30_000);
});
