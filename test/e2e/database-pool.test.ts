import { afterAll, describe, expect, test } from 'bun:test';
import postgres from 'postgres';
import { sql } from 'drizzle-orm';
import nimbusConfig from '../../nimbus.config';
import { createMetrics } from '../../runtime/metrics';
import { createNimbus } from '../../runtime/nimbus';
import { silentLogger } from '../../runtime/logger';
import { testConfig } from '../helpers/app';
import { backend, createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/db';

/**
 * DATABASE_POOL_MAX reaches the pool of a process built from the configuration: ten
 * transactions held at once never use more connections than it allows. On PostgreSQL
 * only (PGlite is one in-process connection).
 */
const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const database of databases) await database.close();
});

/** The most connections of `application` seen at once while `work` runs. */
async function peakConnections(url: string, application: string, work: () => Promise<unknown>): Promise<number> {
  const admin = postgres(TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
  let peak = 0;
  let running = true;
  const sampling = (async () => {
    while (running) {
      const [row] = await admin`select count(*)::int as n from pg_stat_activity where datname = ${new URL(url).pathname.slice(1)} and application_name = ${application}`;
      peak = Math.max(peak, (row as { n: number }).n);
      await Bun.sleep(5);
    }
  })();
  try {
    await work();
  } finally {
    running = false;
    await sampling;
    await admin.end();
  }
  return peak;
}

describe.skipIf(backend !== 'postgres')('DATABASE_POOL_MAX', () => {
  test.each([2, 5])('a pool of %i: ten transactions held at once use at most that many connections', async (size) => {
    const database = await createTestDatabase();
    databases.push(database);
    const application = `nimbus_pool_${size}`;
    const url = `${database.url!}${database.url!.includes('?') ? '&' : '?'}application_name=${application}`;
    const config = testConfig({ DATABASE_URL: url, DATABASE_POOL_MAX: String(size) });
    const nimbus = createNimbus(nimbusConfig, { config, logger: silentLogger, metrics: createMetrics() });
    try {
      const hold = () => nimbus.database.system((tx) => tx.execute(sql`select pg_sleep(0.2)`));
      const peak = await peakConnections(url, application, () => Promise.all(Array.from({ length: 10 }, hold)));
      expect(peak).toBe(size);
    } finally {
      await nimbus.database.close();
    }
  });
});
