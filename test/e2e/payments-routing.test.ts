import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Type } from '@sinclair/typebox';
import { eq } from 'drizzle-orm';
import { schema } from '../../db';
import { defineProcessor } from '../../processors/sdk/define.ts';
import { ProcessorError } from '../../processors/sdk/errors.ts';
import { createSimulator } from '../../processors/simulator/index.ts';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, platformToken, type TestTenant } from '../helpers/auth';
import { call, card, CARDS, eventTypes, paymentBody } from '../helpers/payments';

/** Routing by method and currency, tenant routing rules, and failover on retryable errors. */

let calls = 0;
/** A test-only processor that always fails retryably and takes cards in EUR only. */
const flaky = defineProcessor({
  id: 'flaky',
  supports: { methods: ['card'], currencies: ['EUR'] },
  credentials: Type.Object({}),
  async authorize() {
    calls += 1;
    throw new ProcessorError('Temporarily unavailable (test).', { retryable: true, code: 'try_again' });
  },
  async capture() {
    throw new ProcessorError('no', { retryable: false });
  },
  async cancel() {
    throw new ProcessorError('no', { retryable: false });
  },
  async refund() {
    throw new ProcessorError('no', { retryable: false });
  },
  async sync() {
    return { kind: 'payment' as const, status: 'not_found' as const };
  },
});

let t: TestApp;
let acme: TestTenant;
beforeAll(async () => {
  t = await createTestApp({
    definition: { processors: [flaky, createSimulator({ settleMs: 50 })] },
    credentials: { flaky: {}, simulator: { callbackSecret: 'test-callback-secret-0123456789' } },
  });
  acme = await createTenant(t);
}, 30_000);
afterAll(() => t.close());

describe('failover', () => {
  test('a retryable error sends the payment to the next processor, which serves it', async () => {
    calls = 0;
    const created = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa)));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'succeeded', processor: 'simulator' });
    expect(calls).toBeGreaterThanOrEqual(1);
    const [row] = await t.database.system((tx) => tx.select().from(schema.payments).where(eq(schema.payments.id, created.body.id)));
    expect(row!.processorAttempts.map((attempt) => [attempt.processor, attempt.outcome])).toEqual([
      ['flaky', 'error'],
      ['simulator', 'succeeded'],
    ]);
    expect(await eventTypes(t, acme.token, created.body.id)).toEqual(['payment.created', 'payment.succeeded']);
  });

  test('currency routing skips processors that do not take it', async () => {
    calls = 0;
    const created = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { currency: 'USD' }));
    expect(created.body).toMatchObject({ status: 'succeeded', processor: 'simulator' });
    expect(calls).toBe(0);
  });

  test('a forced processor gets no failover: failed with processing_error', async () => {
    const created = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { processor: 'flaky' }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'failed', processor: 'flaky', failure: { code: 'processing_error' } });
  });

  test('a forced processor that cannot take the payment is 400 on processor', async () => {
    const answer = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { processor: 'flaky', currency: 'USD' }));
    expect([answer.status, answer.body.error.param]).toEqual([400, 'processor']);
  });

  test('the tenant routing orders the candidates', async () => {
    const admin = await platformToken(t, ['platform:admin']);
    const routing = `/v1/tenants/${acme.tenantId}/routing`;
    const set = await call(t, 'PUT', routing, admin, { rules: [{ method: 'card', processors: ['simulator', 'flaky'] }] });
    expect(set.status).toBe(200);
    calls = 0;
    const created = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa)));
    expect(created.body).toMatchObject({ status: 'succeeded', processor: 'simulator' });
    expect(calls).toBe(0);
    expect((await call(t, 'PUT', routing, admin, { rules: [] })).status).toBe(200);
  });
});
