import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { schema } from '../../db';
import { recordEvent } from '../../webhooks/test-support';
import { randomId } from '../../runtime/ids';
import { createEndpoint } from '../../webhooks/service';
import { startReceiver } from '../../webhooks/test-support';
import { createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/db';
import { freePort, migratedDataDir, spawnNimbus, tempDir, waitFor } from '../helpers/process';

describe('nimbus worker', () => {
  test('serves health and webhook metrics on the embedded database, SIGTERM exits 0', async () => {
    const port = await freePort();
    const child = spawnNimbus(['worker'], { PORT: String(port), NIMBUS_DATA_DIR: await migratedDataDir(), LOG_LEVEL: 'silent' });
    try {
      await waitFor(`http://127.0.0.1:${port}/health/ready`);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain('nimbus_webhook_queue_depth');
      // No API routes on a worker.
      expect((await fetch(`http://127.0.0.1:${port}/v1/webhook_endpoints`)).status).toBe(404);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await child.exited).toBe(0);
  }, 90_000);

  test('a bad tuning variable stops the start naming it', async () => {
    const child = spawnNimbus(['worker'], { NIMBUS_DATA_DIR: tempDir(), NIMBUS_WEBHOOK_LEASE_MS: 'soon' });
    expect(await child.exited).not.toBe(0);
    expect(await new Response(child.stderr).text()).toContain('NIMBUS_WEBHOOK_LEASE_MS');
  }, 60_000);
});

if (!TEST_DATABASE_URL) console.warn('skipping the in-process worker test of nimbus serve: it needs PostgreSQL (set TEST_DATABASE_URL)');

describe.skipIf(!TEST_DATABASE_URL)('nimbus serve runs the worker in-process unless --no-worker', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.close());

  /** Deliveries seen within `waitMs`: as soon as the first arrives when one is expected, the whole window when none is. */
  async function deliveredBy(args: string[], waitMs: number): Promise<number> {
    const tenantId = randomId('ten');
    await database.system((tx) => tx.insert(schema.tenants).values({ id: tenantId, name: 'Serve' }));
    const receiver = startReceiver();
    const port = await freePort();
    const child = spawnNimbus(args, { DATABASE_URL: database.url!, PORT: String(port), LOG_LEVEL: 'silent', NIMBUS_WEBHOOK_POLL_MS: '100' });
    try {
      await createEndpoint(database, tenantId, { url: receiver.url, enabled_events: ['*'] }, { allowPrivate: true });
      await waitFor(`http://127.0.0.1:${port}/health/ready`);
      await database.tenant(tenantId, (tx) => recordEvent(tx, { tenantId, type: 'payment.created', objectId: 'pay_1', object: { id: 'pay_1' } }));
      await receiver.waitFor(1, waitMs).catch(() => undefined);
      return receiver.received.length;
    } finally {
      child.kill('SIGTERM');
      await child.exited;
      receiver.stop();
    }
  }

  test('serve delivers; serve --no-worker does not', async () => {
    expect(await deliveredBy(['serve'], 20_000)).toBe(1);
    const before = await deliveredBy(['serve', '--no-worker'], 3000);
    expect(before).toBe(0);
  }, 60_000);
});
