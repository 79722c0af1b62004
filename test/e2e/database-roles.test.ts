import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { APP_ROLE, createPostgresDatabase, inspectRoles, rowsOf, type Database } from '../../db';
import { assertServingRoles } from '../../runtime/cli/database-roles';
import { migrationDatabaseUrl } from '../../runtime/cli/migration-url';
import { ConfigError } from '../../runtime/config';
import { silentLogger } from '../../runtime/logger';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, type TestTenant } from '../helpers/auth';
import { TEST_DATABASE_URL } from '../helpers/db';
import { call, card, CARDS, paymentBody } from '../helpers/payments';

/**
 * The two database roles of a deployment: migrations as the owner, the API and workers
 * as a login role that owns nothing and only holds the restricted role. Roles are global
 * to the PostgreSQL cluster, so every role here has a random name and is dropped after.
 */
if (!TEST_DATABASE_URL) console.warn('skipping the database role tests: set TEST_DATABASE_URL (PGlite has a single user)');

describe.skipIf(!TEST_DATABASE_URL)('serving as a login role that owns nothing', () => {
  const suffix = randomBytes(4).toString('hex');
  const login = `nimbus_api_${suffix}`;
  const bypassing = `nimbus_bypass_${suffix}`;
  let owner: TestApp;
  let asLogin: Database;
  let served: TestApp;
  let tenant: TestTenant;
  const admin = () => postgres(TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });

  beforeAll(async () => {
    owner = await createTestApp();
    const a = admin();
    await a.unsafe(`create role ${login} login`);
    await a.unsafe(`grant ${APP_ROLE} to ${login}`);
    await a.unsafe(`create role ${bypassing} nologin bypassrls`);
    await a.end();
    const url = new URL(owner.database.url!);
    url.username = login;
    asLogin = createPostgresDatabase(url.toString(), { maxConnections: 4 });
    served = await createTestApp({ database: Object.assign(asLogin, { url: url.toString() }) });
    tenant = await createTenant(served);
  }, 60_000);

  afterAll(async () => {
    await asLogin?.close();
    await owner?.close();
    const a = admin();
    await a.unsafe(`drop role if exists ${login}`).catch(() => undefined);
    await a.unsafe(`drop role if exists ${bypassing}`).catch(() => undefined);
    await a.end();
  });

  test('the API works through it: a payment is created and read', async () => {
    const created = await call(served, 'POST', '/v1/payments', tenant.token, paymentBody(card(CARDS.visa)));
    expect(created.status).toBe(201);
    expect((await call(served, 'GET', `/v1/payments/${created.body.id}`, tenant.token)).body.status).toBe('succeeded');
  });

  test('it owns nothing and bypasses nothing, so start accepts it in production', async () => {
    const report = await inspectRoles(asLogin);
    expect(report).toMatchObject({ user: login, superuser: false, bypassRls: false, ownsTables: 0, appRoleBypassesRls: false });
    await assertServingRoles(asLogin, { env: 'production' }, silentLogger);
  });

  test('RESET ROLE leads nowhere: row-level security still hides every tenant row', async () => {
    const seen = await asLogin.db.transaction(async (tx) => {
      await tx.execute(sql`reset role`);
      return rowsOf<{ n: number }>(await tx.execute(sql`select count(*)::int as n from payments`))[0]!.n;
    });
    expect(seen).toBe(0);
    const owned = await owner.database.system(async (tx) => rowsOf<{ n: number }>(await tx.execute(sql`select count(*)::int as n from payments`))[0]!.n);
    expect(owned).toBeGreaterThan(0);
  });

  test('production refuses the owner or a superuser as DATABASE_URL; development only warns', async () => {
    await expect(assertServingRoles(owner.database, { env: 'production' }, silentLogger)).rejects.toThrow(ConfigError);
    await assertServingRoles(owner.database, { env: 'development' }, silentLogger);
  });

  test('a restricted role with BYPASSRLS is refused in every environment', async () => {
    const error = await assertServingRoles(asLogin, { env: 'development' }, silentLogger, bypassing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toContain('BYPASSRLS');
  });
});

describe('the migration connection', () => {
  test('NIMBUS_MIGRATION_DATABASE_URL wins for migrations; without it DATABASE_URL', () => {
    const config = { databaseUrl: 'postgres://api@db/nimbus' };
    expect(migrationDatabaseUrl(config, {})).toBe('postgres://api@db/nimbus');
    expect(migrationDatabaseUrl(config, { NIMBUS_MIGRATION_DATABASE_URL: 'postgres://owner@db/nimbus' })).toBe('postgres://owner@db/nimbus');
    expect(() => migrationDatabaseUrl(config, { NIMBUS_MIGRATION_DATABASE_URL: 'not a url' })).toThrow(/NIMBUS_MIGRATION_DATABASE_URL/);
    expect(() => migrationDatabaseUrl({}, { NIMBUS_MIGRATION_DATABASE_URL: 'postgres://owner@db/nimbus' })).toThrow(/DATABASE_URL/);
  });
});
