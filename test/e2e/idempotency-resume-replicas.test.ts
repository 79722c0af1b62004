import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createPostgresDatabase } from '../../db';
import nimbusConfig from '../../nimbus.config';
import { createIdempotency } from '../../plugins/idempotency';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, type TestTenant } from '../helpers/auth';
import { createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/db';
import { faultyDatabase, type FaultyDatabase } from '../helpers/faulty-database';
import { card, CARDS, paymentBody } from '../helpers/payments';
import { holdAuthorizations, scriptedProcessor } from '../helpers/scripted-processor';

/**
 * Issue 11, item 1 across two replicas sharing PostgreSQL, each with its own pool and
 * HTTP server on loopback, and one processor between them: retries racing over both
 * replicas after a 5xx resume the payment once; a retry on the other replica while the
 * first is still in a long processor call is 409, never a takeover. PostgreSQL only:
 * PGlite is one in-process database that two servers cannot share.
 */

if (!TEST_DATABASE_URL) console.warn('skipping idempotent resume across replicas: set TEST_DATABASE_URL to run it on PostgreSQL');

describe.skipIf(!TEST_DATABASE_URL)('idempotent resume across two replicas', () => {
  const scripted = scriptedProcessor('sharedpay');
  let inner: TestDatabase;
  let faulty: FaultyDatabase;
  let first: TestApp;
  let second: TestApp;
  let urls: string[] = [];
  let tenant: TestTenant;

  beforeAll(async () => {
    inner = await createTestDatabase();
    faulty = faultyDatabase(inner);
    const definition = {
      processors: [scripted.definition],
      // A short lock, so only the heartbeat of a running request keeps its key.
      plugins: nimbusConfig.plugins.map((plugin) => (plugin.name === 'idempotency' ? createIdempotency({ lockMs: 1500 }) : plugin)),
    };
    first = await createTestApp({ database: faulty.database, definition, credentials: { sharedpay: {} } });
    second = await createTestApp({ database: createPostgresDatabase(inner.url!, { maxConnections: 10 }), definition, credentials: { sharedpay: {} } });
    for (const replica of [first, second]) replica.app.listen({ hostname: '127.0.0.1', port: 0 });
    urls = [first, second].map((replica) => `http://127.0.0.1:${replica.app.server!.port}`);
    tenant = await createTenant(first);
  }, 30_000);

  afterAll(async () => {
    for (const replica of [first, second]) await replica?.app.stop(true).catch(() => undefined);
    await second?.database.close();
    await inner?.close();
  });

  async function post(url: string, key: string, body: unknown) {
    const response = await fetch(`${url}/v1/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
    });
    return { status: response.status, text: await response.text(), replayed: response.headers.get('idempotent-replayed') };
  }

  const payments = async () => {
    const list = await fetch(`${urls[1]}/v1/payments?limit=100`, { headers: { authorization: `Bearer ${tenant.token}` } });
    return ((await list.json()) as { data: Array<{ id: string }> }).data;
  };

  test('after a 5xx, ten retries racing over both replicas resume the one payment; the processor authorizes once', async () => {
    scripted.reset();
    scripted.authorize = async (input) => {
      const result = await scripted.defaults.authorize(input);
      faulty.failNext(1); // replica one's commit of the outcome
      return result;
    };
    const body = paymentBody(card(CARDS.visa));
    const failed = await post(urls[0]!, 'race-1', body);
    expect(failed.status).toBeGreaterThanOrEqual(500);
    scripted.authorize = scripted.defaults.authorize;

    const answers = await Promise.all(Array.from({ length: 10 }, (_, index) => post(urls[index % 2]!, 'race-1', body)));
    const created = answers.filter((answer) => answer.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((answer) => JSON.parse(answer.text).id)).size).toBe(1);
    for (const answer of answers.filter((candidate) => candidate.status !== 201)) {
      expect([answer.status, JSON.parse(answer.text).error.code]).toEqual([409, 'idempotency_key_in_use']);
    }
    const replays = await Promise.all(urls.map((url) => post(url, 'race-1', body)));
    for (const replay of replays) expect([replay.status, replay.text, replay.replayed]).toEqual([201, created[0]!.text, 'true']);
    expect(scripted.calls.authorize).toBe(1);
    expect(await payments()).toHaveLength(1);
  }, 30_000);

  test('a retry on the other replica during a long processor call is 409 in use', async () => {
    scripted.reset();
    const { entered, release } = holdAuthorizations(scripted);
    const body = paymentBody(card(CARDS.visa), { amount: 3100 });
    const running = post(urls[0]!, 'long-2', body);
    await entered;
    await Bun.sleep(4000); // well past the 1.5 s lock: only the heartbeat holds the key
    const during = await post(urls[1]!, 'long-2', body);
    release();
    expect([during.status, JSON.parse(during.text).error?.code]).toEqual([409, 'idempotency_key_in_use']);
    expect((await running).status).toBe(201);
    expect(scripted.calls.authorize).toBe(1);
  }, 30_000);
});
