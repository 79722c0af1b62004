import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { sql } from 'drizzle-orm';
import { backend, createTestDatabase, type TestDatabase } from '../helpers/db';
import { TcpProxy } from '../helpers/tcp-proxy';
import { createPostgresDatabase, pendingMigrations, rowsOf, runStatement, schema } from '../../db';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await database.system(async (tx) => {
    await tx.insert(schema.tenants).values([
      { id: 'ten_a', name: 'A' },
      { id: 'ten_b', name: 'B' },
    ]);
    await tx.insert(schema.events).values([
      { id: 'evt_a1', tenantId: 'ten_a', type: 'payment.created', objectId: 'pay_a', data: { object: {} } },
      { id: 'evt_b1', tenantId: 'ten_b', type: 'payment.created', objectId: 'pay_b', data: { object: {} } },
    ]);
  });
});
afterAll(() => database.close());

describe(`migrations (${backend})`, () => {
  test('the whole migration set is applied', async () => {
    expect(await pendingMigrations(database)).toBe(0);
  });
});

describe(`row-level security (${backend})`, () => {
  test('an unscoped SELECT inside a tenant transaction sees only that tenant', async () => {
    const rows = await database.tenant('ten_a', (tx) => tx.select().from(schema.events));
    expect(rows.map((row) => row.id)).toEqual(['evt_a1']);
    const raw = await database.tenant('ten_b', (tx) => tx.execute(sql`select id from events`));
    expect(rowsOf<{ id: string }>(raw).map((row) => row.id)).toEqual(['evt_b1']);
  });

  test("a tenant transaction cannot write another tenant's rows", async () => {
    const attempt = database.tenant('ten_a', (tx) =>
      tx.insert(schema.events).values({ id: 'evt_x', tenantId: 'ten_b', type: 'payment.created', objectId: 'pay_x', data: { object: {} } }),
    );
    expect(attempt).rejects.toThrow();
    const updated = await database.tenant('ten_a', (tx) =>
      tx.update(schema.events).set({ type: 'tampered' }).where(sql`id = 'evt_b1'`).returning(),
    );
    expect(updated).toEqual([]);
  });

  test('a one-round-trip read (tenantRead) is scoped like a transaction, and leaves nothing on the pooled connection', async () => {
    expect((await database.tenantRead('ten_a', 'select id from events', [])).map((row) => row.id)).toEqual(['evt_a1']);
    expect((await database.tenantRead('ten_b', 'select id from events where type = $1', ['payment.created'])).map((row) => row.id)).toEqual(['evt_b1']);
    expect(await database.tenantRead('ten_a', 'select current_user as role', [])).toEqual([{ role: 'nimbus_app' }]);
    // The settings were local to the read's implicit transaction: the connections of the
    // pool are back to their own user, with no tenant.
    for (let i = 0; i < 12; i++) {
      const raw = rowsOf<{ role: string; tenant: string | null }>(
        await database.db.execute(sql`select current_user as role, nullif(current_setting('nimbus.tenant_id', true), '') as tenant`),
      );
      expect(raw[0]!.role).not.toBe('nimbus_app');
      expect(raw[0]!.tenant).toBeNull();
    }
    // A value that cannot be a literal goes as a parameter and still matches nothing it should not.
    expect(await database.tenantRead('ten_a', 'select id from events where id = $1', ["evt_b1' or 'x'='x"])).toEqual([]);
    expect(await database.tenantRead("ten_a' or 'x'='x", 'select id from events', [])).toEqual([]);
  });

  test.skipIf(backend !== 'postgres')('round trips on the wire: a tenantRead is one, a transaction three (BEGIN; the settings and the statement; COMMIT)', async () => {
    const target = new URL(database.url!);
    const proxy = new TcpProxy(Number(target.port || 5432));
    proxy.start();
    target.host = `127.0.0.1:${proxy.port}`;
    const counted = createPostgresDatabase(target.toString(), { maxConnections: 1 });
    try {
      await counted.ping(10_000); // connect, authenticate, read the array types
      let before = proxy.flights;
      expect((await counted.tenantRead('ten_a', 'select id from events where id = $1', ['evt_a1'])).map((row) => row.id)).toEqual(['evt_a1']);
      expect(proxy.flights - before).toBe(1);
      const inTransaction = () => counted.tenant('ten_a', (tx) => runStatement(tx, 'select id from events where id = $1', ['evt_a1']));
      await inTransaction(); // its statements are prepared on this connection the first time (a round trip more each)
      before = proxy.flights;
      expect((await inTransaction()).map((row) => row.id)).toEqual(['evt_a1']);
      expect(proxy.flights - before).toBe(3);
    } finally {
      await counted.close();
      proxy.stop();
    }
  });

  test('system transactions see every tenant', async () => {
    const rows = await database.system((tx) => tx.select().from(schema.events));
    expect(rows.map((row) => row.id).sort()).toEqual(['evt_a1', 'evt_b1']);
  });

  test('the request role is not a superuser, so RLS cannot be bypassed by accident', async () => {
    const raw = await database.tenant('ten_a', (tx) => tx.execute(sql`select current_user as role, rolsuper as usesuper from pg_roles where rolname = current_user`));
    expect(rowsOf<{ role: string; usesuper: boolean }>(raw)[0]).toEqual({ role: 'nimbus_app', usesuper: false });
  });
});
