import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createPostgresDatabase } from '../../db';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, type TestTenant } from '../helpers/auth';
import { TEST_DATABASE_URL } from '../helpers/db';
import { card, CARDS, paymentBody } from '../helpers/payments';

/**
 * Two app instances, each with its own connection pool and its own HTTP server on
 * loopback, sharing one PostgreSQL database: one idempotency key, 20 concurrent
 * requests split across both, exactly one payment. PostgreSQL only: PGlite is one
 * in-process database that two servers cannot share.
 */

if (!TEST_DATABASE_URL) console.warn('skipping idempotency across replicas: set TEST_DATABASE_URL to run it on PostgreSQL');

describe.skipIf(!TEST_DATABASE_URL)('idempotency across two replicas', () => {
  let first: TestApp;
  let second: TestApp;
  let urls: string[] = [];
  let tenant: TestTenant;

  beforeAll(async () => {
    first = await createTestApp();
    second = await createTestApp({ database: createPostgresDatabase(first.database.url!, { maxConnections: 10 }) });
    for (const replica of [first, second]) replica.app.listen({ hostname: '127.0.0.1', port: 0 });
    urls = [first, second].map((replica) => `http://127.0.0.1:${replica.app.server!.port}`);
    tenant = await createTenant(first);
  }, 30_000);

  afterAll(async () => {
    for (const replica of [first, second]) await replica?.app.stop(true).catch(() => undefined);
    await second?.database.close();
    await first?.close();
  });

  async function post(url: string, key: string, body: unknown) {
    const response = await fetch(`${url}/v1/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
    });
    return { status: response.status, text: await response.text(), replayed: response.headers.get('idempotent-replayed') };
  }

  test('20 concurrent requests with one key over two servers create exactly one payment', async () => {
    const body = paymentBody(card(CARDS.visa));
    const answers = await Promise.all(Array.from({ length: 20 }, (_, index) => post(urls[index % 2]!, 'replicas-1', body)));
    const created = answers.filter((answer) => answer.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((answer) => JSON.parse(answer.text).id)).size).toBe(1);
    for (const answer of answers.filter((candidate) => candidate.status !== 201)) {
      expect(answer.status).toBe(409);
      expect(JSON.parse(answer.text).error.code).toBe('idempotency_key_in_use');
    }
    // Once it completed, both replicas replay it byte for byte.
    const replays = await Promise.all(urls.map((url) => post(url, 'replicas-1', body)));
    for (const replay of replays) expect([replay.status, replay.text, replay.replayed]).toEqual([201, created[0]!.text, 'true']);
    const list = await fetch(`${urls[1]}/v1/payments?limit=100`, { headers: { authorization: `Bearer ${tenant.token}` } });
    expect(((await list.json()) as { data: unknown[] }).data).toHaveLength(1);
  }, 30_000);
});
