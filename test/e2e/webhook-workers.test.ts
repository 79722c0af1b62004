import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { eq } from 'drizzle-orm';
import { schema } from '../../db';
import { recordEvent } from '../../webhooks/test-support';
import { randomId } from '../../runtime/ids';
import { createEndpoint } from '../../webhooks/service';
import { eventually, startReceiver } from '../../webhooks/test-support';
import { createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/db';
import { freePort, spawnNimbus, waitFor } from '../helpers/process';

/**
 * Real `nimbus worker` processes against one PostgreSQL database: a worker killed in the
 * middle of a delivery, and two workers sharing the queue. Two processes cannot share a
 * PGlite, so these run in the PostgreSQL pass only (TEST_DATABASE_URL).
 */
if (!TEST_DATABASE_URL) console.warn('skipping webhook worker process tests: they need PostgreSQL (set TEST_DATABASE_URL)');

describe.skipIf(!TEST_DATABASE_URL)('nimbus worker processes on PostgreSQL', () => {
  let database: TestDatabase;
  const children: Array<ReturnType<typeof spawnNimbus>> = [];

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await database.close();
  });

  async function tenant(): Promise<string> {
    const id = randomId('ten');
    await database.system((tx) => tx.insert(schema.tenants).values({ id, name: 'Workers' }));
    return id;
  }

  async function startWorker(env: Record<string, string> = {}) {
    const port = await freePort();
    const child = spawnNimbus(['worker'], {
      DATABASE_URL: database.url!,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      NIMBUS_WEBHOOK_POLL_MS: '100',
      ...env,
    });
    children.push(child);
    await waitFor(`http://127.0.0.1:${port}/health/ready`, 200, 20_000);
    return child;
  }

  async function write(tenantId: string, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let offset = 0; offset < count; offset += 100) {
      await database.tenant(tenantId, async (tx) => {
        for (let i = offset; i < Math.min(count, offset + 100); i++) {
          const event = await recordEvent(tx, { tenantId, type: 'payment.succeeded', objectId: `pay_${i}`, object: { id: `pay_${i}` } });
          ids.push(event.id);
        }
      });
    }
    return ids;
  }

  test('a worker killed in the middle of a delivery loses nothing: another worker delivers after the lease', async () => {
    const tenantId = await tenant();
    const receiver = startReceiver();
    let hang = true;
    receiver.respond = async () => {
      // The first request never gets an answer while its worker is alive.
      while (hang) await Bun.sleep(20);
      return new Response('ok');
    };
    try {
      const endpoint = await createEndpoint(database, tenantId, { url: receiver.url, enabled_events: ['*'] }, { allowPrivate: true });
      const first = await startWorker({ NIMBUS_WEBHOOK_LEASE_MS: '1500' });
      const [eventId] = await write(tenantId, 1);
      await receiver.waitFor(1, 10_000);
      first.kill('SIGKILL');
      await first.exited;
      hang = false;
      const startedAt = Date.now();
      await startWorker({ NIMBUS_WEBHOOK_LEASE_MS: '1500' });
      const got = await receiver.waitFor(2, 15_000);
      expect(got[1]!.headers['webhook-id']).toBe(eventId);
      const row = await eventually(async () => {
        const [delivery] = await database.system((tx) => tx.select().from(schema.webhookDeliveries).where(eq(schema.webhookDeliveries.endpointId, endpoint.id)));
        return delivery?.status === 'succeeded' && delivery;
      });
      expect(row.attempt).toBe(1);
      expect(Date.now() - startedAt).toBeLessThan(15_000);
    } finally {
      hang = false;
      receiver.stop();
    }
  }, 60_000);

  test('two workers deliver 1,000 events: none lost, none twice', async () => {
    const tenantId = await tenant();
    const receiver = startReceiver();
    try {
      await createEndpoint(database, tenantId, { url: receiver.url, enabled_events: ['*'] }, { allowPrivate: true });
      const tuning = { NIMBUS_WEBHOOK_PER_ENDPOINT: '32', NIMBUS_WEBHOOK_CONCURRENCY: '16' };
      const workers = [await startWorker(tuning), await startWorker(tuning)];
      const ids = await write(tenantId, 1000);
      await receiver.waitFor(1000, 60_000);
      // Anything claimed twice would arrive a little later: give it the time to show up.
      await Bun.sleep(500);
      const counts = new Map<string, number>();
      for (const request of receiver.received) counts.set(request.headers['webhook-id']!, (counts.get(request.headers['webhook-id']!) ?? 0) + 1);
      expect(receiver.received).toHaveLength(1000);
      expect([...counts.keys()].sort()).toEqual([...ids].sort());
      const settled = await eventually(async () => {
        const pending = await database.system((tx) => tx.select().from(schema.webhookDeliveries).where(eq(schema.webhookDeliveries.status, 'pending')));
        if (pending.length > 0) console.log(pending);
        return pending.length === 0;
      }, 5000, 200);
      expect(settled).toBe(true);
      expect(receiver.received).toHaveLength(1000);
      // SIGTERM: both drain and exit 0.
      for (const worker of workers) worker.kill('SIGTERM');
      expect(await Promise.all(workers.map((worker) => worker.exited))).toEqual([0, 0]);
    } finally {
      receiver.stop();
    }
  }, 120_000);
});
