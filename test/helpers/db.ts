import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { sql } from 'drizzle-orm';
import { createPgliteDatabase, createPostgresDatabase, type Database, migrate, runStatement, type StatementObserver, type Tx } from '../../db';

/**
 * One isolated, migrated database per caller (normally per test file), on whichever
 * backend the run uses: PGlite in memory by default, or a fresh database on the real
 * PostgreSQL server named by TEST_DATABASE_URL (created here, dropped on close).
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
export const backend: 'pglite' | 'postgres' = TEST_DATABASE_URL ? 'postgres' : 'pglite';

/**
 * True on the PostgreSQL run, for test files whose subject does not depend on the backend
 * the run names: the CLI and SIGTERM on the embedded database (their children never see
 * TEST_DATABASE_URL), pages in a browser (the data behind them is tested on both backends
 * by their API suites), a Deno run that pays on both backends by itself. The embedded run
 * (`npm test`) runs them; .ci/run's PostgreSQL run would only repeat them.
 */
export const repeatsTheEmbeddedRun = backend === 'postgres';

export interface TestDatabase extends Database {
  /** The connection string of the fresh database (postgres backend only). */
  url?: string;
}

let template: Promise<Blob> | undefined;

/** A migrated PGlite image made once per process; each test database loads a copy. */
function pgliteTemplate(): Promise<Blob> {
  template ??= (async () => {
    const pg = new PGlite();
    const database = createPgliteDatabase({ pglite: pg });
    await migrate(database);
    const blob = await pg.dumpDataDir('none');
    await pg.close();
    return blob as Blob;
  })();
  return template;
}

export function databaseUrlFor(name: string): string {
  const url = new URL(TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  return url.toString();
}

/** `observer`: told about every transaction and statement of the app's requests (statement budgets). */
export async function createTestDatabase(options: { observer?: StatementObserver } = {}): Promise<TestDatabase> {
  if (!TEST_DATABASE_URL) {
    const pg = new PGlite({ loadDataDir: await pgliteTemplate() });
    const database = createPgliteDatabase({ pglite: pg, observer: options.observer });
    await migrate(database); // no-op on the template, but proves the journal matches
    return database;
  }
  const base = new URL(TEST_DATABASE_URL).pathname.replace(/^\//, '') || 'nimbus';
  const name = `${base}_${randomBytes(5).toString('hex')}`.toLowerCase();
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const url = databaseUrlFor(name);
  const database = createPostgresDatabase(url, { maxConnections: 10, observer: options.observer });
  await migrate(database);
  return {
    ...database,
    url,
    close: async () => {
      await database.close();
      const dropper = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`drop database if exists "${name}" with (force)`).catch(() => {});
      await dropper.end();
    },
  };
}

/**
 * The same database with row-level security out of the way: tenant and system
 * transactions keep the connecting superuser instead of switching to the restricted
 * role, so only the queries' own `tenant_id` predicates separate tenants. Tests run the
 * isolation walk on it to prove the first layer holds by itself.
 */
export function withoutRowLevelSecurity(database: TestDatabase): TestDatabase {
  const bare = async <T>(settings: { tenant?: string; system?: boolean }, fn: (tx: Tx) => Promise<T>) =>
    database.db.transaction(async (tx) => {
      await tx.execute(
        sql`select set_config('nimbus.tenant_id', ${settings.tenant ?? ''}, true), set_config('nimbus.system', ${settings.system ? 'on' : 'off'}, true)`,
      );
      return fn(tx as Tx);
    });
  return {
    ...database,
    tenant: (tenantId, fn) => bare({ tenant: tenantId }, fn),
    tenantRead: (tenantId, text, params) => bare({ tenant: tenantId }, (tx) => runStatement(tx, text, params)),
    system: (fn) => bare({ system: true }, fn),
  };
}
