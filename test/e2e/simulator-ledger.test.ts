import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { sql } from 'drizzle-orm';
import { createPostgresDatabase, rowsOf } from '../../db';
import { createReconciler } from '../../plugins/payments';
import { createSimulator } from '../../processors/simulator/index.ts';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, type TestTenant } from '../helpers/auth';
import { ach, ACH_ACCOUNTS, call, card, CARDS, eventTypes, paymentBody, sepa, IBANS } from '../helpers/payments';

/**
 * The simulator keeps its ledger in the database (table processor_state), so a process
 * that never saw a payment, a restarted API or a separate `nimbus worker`, reconciles
 * it. Two app instances stand for the two processes: each has its own simulator instance
 * (nothing shared in memory) and, on PostgreSQL, its own connection pool.
 */
const quiet = () => createSimulator({ settleMs: 30, deliverCallback: async () => {} });

let api: TestApp;
let worker: TestApp;
let tenant: TestTenant;
beforeAll(async () => {
  api = await createTestApp({ env: { NIMBUS_RECONCILE_AFTER_MS: '0' }, definition: { processors: [quiet()] } });
  const shared = api.database.url ? createPostgresDatabase(api.database.url, { maxConnections: 4 }) : api.database;
  worker = await createTestApp({ env: { NIMBUS_RECONCILE_AFTER_MS: '0' }, database: shared, definition: { processors: [quiet()] } });
  tenant = await createTenant(api);
}, 30_000);
afterAll(async () => {
  if (worker.database !== api.database) await worker.database.close();
  await api.close();
});

async function reconcileElsewhere(paymentId: string) {
  await Bun.sleep(60); // past the simulator's settle time (30 ms): the ledger applies it lazily
  await createReconciler(worker.payments, { autoStart: false }).runOnce();
  return (await call(api, 'GET', `/v1/payments/${paymentId}`, tenant.token)).body;
}

describe('the simulator ledger outlives its process', () => {
  test('a timed-out card authorized by one process is settled by another', async () => {
    const created = await call(api, 'POST', '/v1/payments', tenant.token, paymentBody(card(CARDS.timeout)));
    expect(created.body.status).toBe('processing');
    const payment = await reconcileElsewhere(created.body.id);
    expect(payment.status).toBe('succeeded');
  });

  test.each([
    ['SEPA settling', () => sepa(IBANS.reconcileOnly), 'EUR', 'succeeded'],
    ['ACH returned', () => ach(ACH_ACCOUNTS.returned), 'USD', 'failed'],
  ] as const)('a %s transfer is reconciled by another process', async (_name, method, currency, status) => {
    const created = await call(api, 'POST', '/v1/payments', tenant.token, paymentBody(method(), { currency }));
    expect(created.body.status).toBe('processing');
    const payment = await reconcileElsewhere(created.body.id);
    expect(payment.status).toBe(status);
    expect(await eventTypes(api, tenant.token, created.body.id)).toEqual(['payment.created', 'payment.processing', `payment.${status}`]);
  });

  test('the ledger is rows in processor_state, holding no card or account number', async () => {
    const rows = await api.database.system(async (tx) =>
      rowsOf<{ key: string; value: unknown }>(await tx.execute(sql`select key, value from processor_state where processor = 'simulator'`)),
    );
    expect(rows.some((row) => row.key.startsWith('payment:sim_'))).toBe(true);
    expect(rows.some((row) => row.key.startsWith('op:authorize:nimbus:pay_'))).toBe(true);
    const text = JSON.stringify(rows);
    for (const secret of [CARDS.timeout, IBANS.reconcileOnly, ACH_ACCOUNTS.returned]) expect(text).not.toContain(secret);
  });
});
