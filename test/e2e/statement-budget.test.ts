import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { StatementObserver } from '../../db';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, type TestTenant } from '../helpers/auth';
import { backend, createTestDatabase } from '../helpers/db';
import { call, card, CARDS, paymentBody } from '../helpers/payments';

/**
 * Issue 13: what each request costs the database, counted through the driver (every
 * transaction and every statement, BEGIN and COMMIT included), so that a later change
 * cannot quietly add a round trip or a commit. A payment costs two commits of its own
 * (DESIGN.md) plus the processor's: the simulator keeps its ledger in the database, one
 * system transaction per call. The timings live in the benchmark (bench/), never here.
 */

interface Budget {
  /** Each transaction's kind and how many statements it sent, in order. */
  transactions: string[];
  total: number;
}

const trace: Array<{ kind: string; statements: number }> = [];
let lastActivity = 0;
const observer: StatementObserver = {
  transaction: (kind) => {
    lastActivity = Date.now();
    trace.push({ kind, statements: 0 });
  },
  statement: () => {
    lastActivity = Date.now();
    if (trace.length > 0) trace.at(-1)!.statements += 1;
  },
};

/**
 * Waits until the database has been quiet for a moment: a statement is counted to the
 * latest transaction, so the tail of an earlier request's background write (on a loaded CI
 * machine, the warm-up's) must not land inside the measured request (bounded: 5 s).
 */
async function quiet(): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (Date.now() - lastActivity < 150 && Date.now() < deadline) await Bun.sleep(25);
}

/** The transactions `request` made, as `kind:statements`. */
async function budgetOf(request: () => Promise<{ status: number }>, expectedStatus: number): Promise<Budget> {
  await quiet();
  trace.length = 0;
  const answer = await request();
  expect(answer.status).toBe(expectedStatus);
  const transactions = trace.map((entry) => `${entry.kind}:${entry.statements}`);
  return { transactions, total: trace.reduce((sum, entry) => sum + entry.statements, 0) };
}

let t: TestApp;
let acme: TestTenant;
let key = 0;
const withKey = () => ({ 'Idempotency-Key': `budget-${++key}` });

beforeAll(async () => {
  t = await createTestApp({ database: await createTestDatabase({ observer }) });
  acme = await createTenant(t);
  // Per-process first uses (signing and fingerprint keys, the tenant's routing rules) are not what is measured.
  await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa)), withKey());
}, 60_000);
afterAll(async () => {
  await t.close();
  await t.database.close();
});

const create = (body: unknown, headers: Record<string, string> = withKey()) => () => call(t, 'POST', '/v1/payments', acme.token, body, headers);

describe('statements and transactions per request', () => {
  test('create a card payment: two commits of its own around the processor\'s one (22 statements)', async () => {
    expect(await budgetOf(create(paymentBody(card(CARDS.visa))), 201)).toEqual({
      // claim + payment + payment.created + outbox | the simulator's ledger | outcome + event + outbox + attempt + answer + audit
      transactions: ['tenant:7', 'system:6', 'tenant:9'],
      total: 22,
    });
  });

  test('create without an Idempotency-Key: no claim, no stored answer (20 statements)', async () => {
    expect(await budgetOf(create(paymentBody(card(CARDS.visa)), {}), 201)).toEqual({ transactions: ['tenant:6', 'system:6', 'tenant:8'], total: 20 });
  });

  test('a declined card: the same two commits', async () => {
    expect((await budgetOf(create(paymentBody(card(CARDS.insufficientFunds))), 201)).transactions).toEqual(['tenant:7', 'system:6', 'tenant:9']);
  });

  test('create with confirm: false: one commit, the answer in it', async () => {
    expect(await budgetOf(create(paymentBody(card(CARDS.visa), { confirm: false })), 201)).toEqual({ transactions: ['tenant:9'], total: 9 });
  });

  test('confirm, capture and cancel: two commits each around the processor\'s', async () => {
    const pending = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { confirm: false, capture_method: 'manual' }));
    const confirm = await budgetOf(() => call(t, 'POST', `/v1/payments/${pending.body.id}/confirm`, acme.token, undefined, withKey()), 200);
    expect(confirm.transactions).toEqual(['tenant:6', 'system:6', 'tenant:9']);
    const capture = await budgetOf(() => call(t, 'POST', `/v1/payments/${pending.body.id}/capture`, acme.token, {}, withKey()), 200);
    expect(capture.transactions).toEqual(['tenant:6', 'system:7', 'tenant:9']);
    const held = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { capture_method: 'manual' }));
    const cancel = await budgetOf(() => call(t, 'POST', `/v1/payments/${held.body.id}/cancel`, acme.token, {}, withKey()), 200);
    expect(cancel.transactions).toEqual(['tenant:6', 'system:7', 'tenant:9']);
  });

  test('cancel before confirmation: one commit', async () => {
    const pending = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { confirm: false }));
    expect((await budgetOf(() => call(t, 'POST', `/v1/payments/${pending.body.id}/cancel`, acme.token, {}, withKey()), 200)).transactions).toEqual(['tenant:10']);
  });

  test('refund a card payment: two commits around the processor\'s', async () => {
    const payment = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa)));
    const refund = await budgetOf(() => call(t, 'POST', '/v1/refunds', acme.token, { payment: payment.body.id, amount: 100 }, withKey()), 201);
    expect(refund.transactions).toEqual(['tenant:9', 'system:8', 'tenant:10']);
  });

  test('an idempotent replay: nothing written', async () => {
    const headers = withKey();
    const body = paymentBody(card(CARDS.visa));
    await call(t, 'POST', '/v1/payments', acme.token, body, headers);
    const replay = await budgetOf(create(body, headers), 201);
    // The fast claim loses (rolled back with the payment it would have created), then the record answers.
    expect(replay.transactions).toEqual(['tenant:7', 'tenant:4']);
  });

  // On PostgreSQL a read is the settings and the statement in one message, one round trip
  // (db/transactions.ts `read`); PGlite runs it as a transaction (no network to save).
  const read = backend === 'postgres' ? 'tenant:2' : 'tenant:4';

  test('GET a payment and a page of payments: one statement of their own, one round trip on PostgreSQL', async () => {
    const payment = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa)));
    expect((await budgetOf(() => call(t, 'GET', `/v1/payments/${payment.body.id}`, acme.token), 200)).transactions).toEqual([read]);
    expect((await budgetOf(() => call(t, 'GET', '/v1/payments?limit=10', acme.token), 200)).transactions).toEqual([read]);
    // The next page: the cursor's seq, then the page (a seq never changes, so two reads suffice).
    expect((await budgetOf(() => call(t, 'GET', `/v1/payments?limit=1&starting_after=${payment.body.id}`, acme.token), 200)).transactions).toEqual([read, read]);
  });

  test('GET a refund and an event: one statement, one round trip on PostgreSQL', async () => {
    const payment = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa)));
    const refund = await call(t, 'POST', '/v1/refunds', acme.token, { payment: payment.body.id, amount: 100 });
    expect((await budgetOf(() => call(t, 'GET', `/v1/refunds/${refund.body.id}`, acme.token), 200)).transactions).toEqual([read]);
    const events = await call(t, 'GET', `/v1/events?object_id=${payment.body.id}&limit=1`, acme.token);
    expect((await budgetOf(() => call(t, 'GET', `/v1/events/${events.body.data[0].id}`, acme.token), 200)).transactions).toEqual([read]);
    // An unknown id answers 404 through the same read.
    expect((await budgetOf(() => call(t, 'GET', '/v1/refunds/re_doesnotexist', acme.token), 404)).transactions).toEqual([read]);
  });

  test('a page of refunds or of events: one round trip per read on PostgreSQL', async () => {
    const payment = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa)));
    const refund = await call(t, 'POST', '/v1/refunds', acme.token, { payment: payment.body.id, amount: 100 });
    expect((await budgetOf(() => call(t, 'GET', '/v1/refunds?limit=10', acme.token), 200)).transactions).toEqual([read]);
    // Filtered by payment: the payment is looked up first (404 when it is not the tenant's).
    expect((await budgetOf(() => call(t, 'GET', `/v1/refunds?payment=${payment.body.id}`, acme.token), 200)).transactions).toEqual([read, read]);
    expect((await budgetOf(() => call(t, 'GET', `/v1/refunds?limit=1&ending_before=${refund.body.id}`, acme.token), 200)).transactions).toEqual([read, read]);
    expect((await budgetOf(() => call(t, 'GET', `/v1/events?object_id=${payment.body.id}&type=payment.succeeded`, acme.token), 200)).transactions).toEqual([read]);
    // A wildcard type is a LIKE pattern ('payment.%'): not a literal it writes, so a parameter in a transaction.
    expect((await budgetOf(() => call(t, 'GET', '/v1/events?type=payment.*&limit=5', acme.token), 200)).transactions).toEqual(['tenant:4']);
  });

  test('a value that cannot be written as a literal is sent as a parameter, in a transaction', async () => {
    // A cursor id with a quote is not a payment id: the lookup runs with parameters and finds nothing.
    const answer = await budgetOf(() => call(t, 'GET', `/v1/payments?starting_after=${encodeURIComponent("pay_x' or '1'='1")}`, acme.token), 404);
    expect(answer.transactions).toEqual(['tenant:4']);
  });
});
