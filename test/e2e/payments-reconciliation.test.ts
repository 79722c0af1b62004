import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { createReconciler } from '../../plugins/payments';
import { ProcessorTimeoutError } from '../../processors/sdk/index.ts';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, type TestTenant } from '../helpers/auth';
import { call, card, CARDS, eventTypes, paymentBody, type Json } from '../helpers/payments';
import { scriptedProcessor } from '../helpers/scripted-processor';

/**
 * Reconciliation ends (issue 11, item 5): a payment the processor never heard of fails
 * after a bounded number of answers; what the processor reports (canceled while
 * processing, a capture nobody asked for) is applied through the state machine; due
 * payments are asked about concurrently, at most 8 at a time.
 */

const recon = scriptedProcessor('reconpay');
let t: TestApp;
let tenant: TestTenant;
beforeAll(async () => {
  t = await createTestApp({
    env: { NIMBUS_RECONCILE_AFTER_MS: '0', NIMBUS_RECONCILE_NOT_FOUND_LIMIT: '3' },
    definition: { processors: [recon.definition] },
    credentials: { reconpay: {} },
  });
  tenant = await createTenant(t);
}, 30_000);
afterAll(() => t.close());
beforeEach(() => recon.reset());

const runOnce = () => createReconciler(t.payments, { autoStart: false }).runOnce();
const get = async (id: string) => (await call(t, 'GET', `/v1/payments/${id}`, tenant.token)).body as Json;
const pay = async (overrides: Record<string, unknown> = {}) => (await call(t, 'POST', '/v1/payments', tenant.token, paymentBody(card(CARDS.visa), overrides))).body as Json;

describe('a payment the processor never heard of', () => {
  test('fails after NIMBUS_RECONCILE_NOT_FOUND_LIMIT not_found answers, not before', async () => {
    recon.authorize = async () => {
      throw new ProcessorTimeoutError(); // lost on the way: the processor never records it
    };
    const payment = await pay();
    expect(payment.status).toBe('processing');
    await runOnce();
    await runOnce();
    expect((await get(payment.id)).status).toBe('processing');
    await runOnce();
    const after = await get(payment.id);
    expect(after).toMatchObject({ status: 'failed', failure: { code: 'processing_error' }, amount_received: 0 });
    expect(await eventTypes(t, tenant.token, payment.id)).toEqual(['payment.created', 'payment.processing', 'payment.failed']);
  });

  test('the limit is the plugin own variable: a bad value stops the start naming it', async () => {
    expect(t.payments.ctx.settings.reconcileNotFoundLimit).toBe(3);
    await expect(createTestApp({ env: { NIMBUS_RECONCILE_NOT_FOUND_LIMIT: 'lots' } })).rejects.toThrow(/NIMBUS_RECONCILE_NOT_FOUND_LIMIT/);
  });
});

describe('what the processor reports is applied, through the state machine', () => {
  test('canceled while processing: the hold we never heard of, then its release (requires_capture, canceled)', async () => {
    recon.authorize = async (input) => {
      await recon.defaults.authorize(input);
      throw new ProcessorTimeoutError(); // authorized there, the answer lost
    };
    const payment = await pay({ capture_method: 'manual' });
    expect(payment.status).toBe('processing');
    const reference = recon.keys.get(`nimbus:${payment.id}:authorize`)!;
    recon.ledger.get(reference)!.status = 'canceled'; // e.g. expired at the processor
    await runOnce();
    expect(await get(payment.id)).toMatchObject({ status: 'canceled', amount_capturable: 0, cancellation_reason: 'automatic', processor_reference: reference });
    expect(await eventTypes(t, tenant.token, payment.id)).toEqual(['payment.created', 'payment.processing', 'payment.requires_capture', 'payment.canceled']);
  });

  test('succeeded without a pending capture (a callback): the authorization was captured elsewhere', async () => {
    const payment = await pay({ capture_method: 'manual' });
    expect(payment.status).toBe('requires_capture');
    const message = JSON.stringify({ eventId: `evt_${payment.id}`, kind: 'payment', reference: payment.processor_reference, status: 'succeeded' });
    const answer = await t.request('POST', '/v1/processors/reconpay/webhooks', { body: message, headers: { 'x-scripted-signature': 'ok' } });
    expect(answer.status).toBe(200);
    expect(await get(payment.id)).toMatchObject({ status: 'succeeded', amount_received: 2000, amount_capturable: 0 });
    expect(await eventTypes(t, tenant.token, payment.id)).toEqual(['payment.created', 'payment.requires_capture', 'payment.succeeded']);
  });

  test('succeeded while a cancel was pending: captured first, so the payment succeeded', async () => {
    const payment = await pay({ capture_method: 'manual' });
    recon.cancel = async () => {
      throw new ProcessorTimeoutError();
    };
    expect((await call(t, 'POST', `/v1/payments/${payment.id}/cancel`, tenant.token)).body.status).toBe('requires_capture');
    recon.ledger.get(payment.processor_reference)!.status = 'succeeded';
    await runOnce();
    expect(await get(payment.id)).toMatchObject({ status: 'succeeded', amount_received: 2000 });
  });
});

describe('due payments are asked about concurrently, at most 8 at a time', () => {
  const busy = scriptedProcessor('busypay');
  let app: TestApp;
  let owner: TestTenant;
  beforeAll(async () => {
    app = await createTestApp({ env: { NIMBUS_RECONCILE_AFTER_MS: '0' }, definition: { processors: [busy.definition] }, credentials: { busypay: {} } });
    owner = await createTenant(app);
  }, 30_000);
  afterAll(() => app.close());

  test('twelve processing payments: eight questions in flight together, never more', async () => {
    busy.authorize = async (input) => ({ status: 'pending', reference: `busy_${input.idempotencyKey.slice(7, 31)}` });
    for (let i = 0; i < 12; i++) {
      const created = await call(app, 'POST', '/v1/payments', owner.token, paymentBody(card(CARDS.visa)));
      expect(created.body.status).toBe('processing');
    }
    let inFlight = 0;
    let most = 0;
    let open!: () => void;
    const eight = new Promise<void>((resolve) => (open = resolve));
    busy.sync = async (input) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      if (inFlight >= 8) open();
      // Waits until eight are in flight together; a pass that asks one at a time gets there never (bounded wait).
      await Promise.race([eight, Bun.sleep(1500)]);
      inFlight -= 1;
      return { kind: 'payment', reference: input.reference!, status: 'pending' };
    };
    const report = await createReconciler(app.payments, { autoStart: false }).runOnce();
    expect(report.payments).toBe(12);
    expect(busy.calls.sync).toBe(12);
    expect(most).toBe(8);
  }, 30_000);
});
