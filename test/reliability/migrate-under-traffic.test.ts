import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import postgres from 'postgres';
import { migrate } from '../../db';
import { createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/db';

/**
 * Found by the replica-kill drill (test/reliability/replica-kill.drill.ts): a replica
 * restarted while the others serve traffic runs `migrate` (always in development, with
 * `--migrate` or the migration Job elsewhere), and re-applying row-level security took
 * ACCESS EXCLUSIVE locks on every tenant table even when nothing had to change. Behind a
 * request's open transaction it waits, every later request queues behind it, and with two
 * tables locked in the other order PostgreSQL kills one side as a deadlock: a request, or
 * the starting replica. Re-running migrations on a current schema must take no table lock.
 */
if (!TEST_DATABASE_URL) console.warn('skipping migrate-under-traffic: it needs PostgreSQL (set TEST_DATABASE_URL)');

describe.skipIf(!TEST_DATABASE_URL)('migrations on a current schema while requests run', () => {
  let database: TestDatabase;
  let traffic: ReturnType<typeof postgres>;

  beforeAll(async () => {
    database = await createTestDatabase();
    traffic = postgres(database.url!, { max: 2, onnotice: () => {} });
  });
  afterAll(async () => {
    await traffic?.end({ timeout: 2 });
    await database?.close();
  });

  test('take no lock that waits for an open request transaction', async () => {
    const request = await traffic.reserve();
    try {
      // What an in-flight create-payment holds until it commits.
      await request`begin`;
      await request`lock table payments, events in row exclusive mode`;
      const started = Date.now();
      const finished = migrate(database).then(() => Date.now() - started);
      const outcome = await Promise.race([finished, Bun.sleep(5_000).then(() => 'blocked' as const)]);
      await request`commit`;
      await finished;
      expect(outcome).not.toBe('blocked');
    } finally {
      request.release();
    }
  }, 30_000);
});
