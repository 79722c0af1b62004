import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createReconciler, type Reconciler } from '../../plugins/payments';
import { createSimulator } from '../../processors/simulator/index.ts';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, type TestTenant } from '../helpers/auth';
import { ACH_ACCOUNTS, ach, call, card, CARDS, eventTypes, eventually, IBANS, paymentBody, sepa, type Json } from '../helpers/payments';

/** Every simulator outcome of API.md, over HTTP, with its status, codes and event sequence. */

let t: TestApp;
let acme: TestTenant;
let reconciler: Reconciler;
beforeAll(async () => {
  t = await createTestApp({ env: { NIMBUS_RECONCILE_AFTER_MS: '0' } });
  acme = await createTenant(t);
  reconciler = createReconciler(t.payments, { autoStart: false });
}, 30_000);
afterAll(() => t.close());

const pay = (body: unknown) => call(t, 'POST', '/v1/payments', acme.token, body);
const get = async (id: string) => (await call(t, 'GET', `/v1/payments/${id}`, acme.token)).body as Json;

describe('cards approved at once', () => {
  for (const [brand, number] of [['visa', CARDS.visa], ['mastercard', CARDS.mastercard], ['amex', CARDS.amex], ['discover', CARDS.discover]] as const) {
    test(`${brand} succeeds: created, succeeded`, async () => {
      const created = await pay(paymentBody(card(number), { metadata: { order_id: '1234' }, description: 'Order 1234' }));
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        object: 'payment',
        status: 'succeeded',
        amount: 2000,
        currency: 'EUR',
        capture_method: 'automatic',
        amount_capturable: 0,
        amount_received: 2000,
        amount_refunded: 0,
        processor: 'simulator',
        failure: null,
        description: 'Order 1234',
        metadata: { order_id: '1234' },
        payment_method: { type: 'card', card: { brand, last4: number.slice(-4), exp_month: 12 } },
      });
      expect(created.body.id).toMatch(/^pay_/);
      expect(created.body.processor_reference).toMatch(/^sim_/);
      expect(created.body.payment_method.card.fingerprint).toEqual(expect.any(String));
      expect(await eventTypes(t, acme.token, created.body.id)).toEqual(['payment.created', 'payment.succeeded']);
    });
  }
});

describe('declines on create: 201 with a failed payment', () => {
  const cases = [
    [CARDS.genericDecline, { code: 'card_declined', decline_code: 'generic_decline' }],
    [CARDS.insufficientFunds, { code: 'card_declined', decline_code: 'insufficient_funds' }],
    [CARDS.lostCard, { code: 'card_declined', decline_code: 'lost_card' }],
    [CARDS.expiredCard, { code: 'expired_card' }],
    [CARDS.incorrectCvc, { code: 'incorrect_cvc' }],
  ] as const;
  for (const [number, failure] of cases) {
    test(`${number}: ${failure.code}`, async () => {
      const created = await pay(paymentBody(card(number)));
      expect(created.status).toBe(201);
      expect(created.body.status).toBe('failed');
      expect(created.body.failure).toMatchObject({ ...failure, message: expect.any(String) });
      if (!('decline_code' in failure)) expect(created.body.failure.decline_code).toBeUndefined();
      expect(created.body.amount_received).toBe(0);
      expect(await eventTypes(t, acme.token, created.body.id)).toEqual(['payment.created', 'payment.failed']);
    });
  }

  test('a processor error no other processor can take: failed with processing_error', async () => {
    const created = await pay(paymentBody(card(CARDS.processorError)));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'failed', failure: { code: 'processing_error' } });
    expect(await eventTypes(t, acme.token, created.body.id)).toEqual(['payment.created', 'payment.failed']);
  });
});

describe('declines on confirm: 402 card_error, the payment becomes failed', () => {
  const cases = [
    [CARDS.genericDecline, 'card_declined', 'generic_decline'],
    [CARDS.insufficientFunds, 'card_declined', 'insufficient_funds'],
    [CARDS.lostCard, 'card_declined', 'lost_card'],
    [CARDS.expiredCard, 'expired_card', undefined],
    [CARDS.incorrectCvc, 'incorrect_cvc', undefined],
    [CARDS.processorError, 'processing_error', undefined],
  ] as const;
  for (const [number, code, declineCode] of cases) {
    test(`${number}: 402 ${code}`, async () => {
      const created = await pay(paymentBody(card(number), { confirm: false }));
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ status: 'requires_confirmation', processor: null, failure: null });
      const confirmed = await call(t, 'POST', `/v1/payments/${created.body.id}/confirm`, acme.token);
      expect(confirmed.status).toBe(402);
      expect(confirmed.body.error).toMatchObject({ type: 'card_error', code, request_id: expect.any(String) });
      expect(confirmed.body.error.decline_code).toBe(declineCode);
      const payment = await get(created.body.id);
      expect(payment.status).toBe('failed');
      expect(payment.failure.code).toBe(code);
      expect(await eventTypes(t, acme.token, created.body.id)).toEqual(['payment.created', 'payment.failed']);
    });
  }

  test('an approved card confirms to succeeded (200)', async () => {
    const created = await pay(paymentBody(card(CARDS.visa), { confirm: false }));
    const confirmed = await call(t, 'POST', `/v1/payments/${created.body.id}/confirm`, acme.token);
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ status: 'succeeded', amount_received: 2000 });
    expect(await eventTypes(t, acme.token, created.body.id)).toEqual(['payment.created', 'payment.succeeded']);
  });
});

describe('outcome unknown and settled later', () => {
  test('the timeout card stays processing, then reconciliation finds it succeeded', async () => {
    const created = await pay(paymentBody(card(CARDS.timeout)));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'processing', failure: null, processor: 'simulator' });
    await Bun.sleep(80); // the simulator's own callback names a reference we never learned: it changes nothing
    expect((await get(created.body.id)).status).toBe('processing');
    await reconciler.runOnce();
    const payment = await get(created.body.id);
    expect(payment).toMatchObject({ status: 'succeeded', amount_received: 2000 });
    expect(await eventTypes(t, acme.token, created.body.id)).toEqual(['payment.created', 'payment.processing', 'payment.succeeded']);
  });

  const banks = [
    ['SEPA settles', sepa(IBANS.settles), 'EUR', 'succeeded', undefined],
    ['ACH settles', ach(ACH_ACCOUNTS.settles), 'USD', 'succeeded', undefined],
    ['SEPA returned AC04', sepa(IBANS.returned), 'EUR', 'failed', 'AC04'],
    ['ACH returned R01', ach(ACH_ACCOUNTS.returned), 'USD', 'failed', 'R01'],
  ] as const;
  for (const [name, method, currency, status, code] of banks) {
    test(`${name}: processing, then ${status} by callback`, async () => {
      const created = await pay(paymentBody(method, { currency }));
      expect(created.status).toBe(201);
      expect(created.body.status).toBe('processing');
      expect(created.body.payment_method.type).toBe('bank_transfer');
      const settled = await eventually(async () => {
        const payment = await get(created.body.id);
        return payment.status === 'processing' ? undefined : payment;
      });
      expect(settled.status).toBe(status);
      if (code) expect(settled.failure).toMatchObject({ code, message: expect.any(String) });
      else expect(settled.amount_received).toBe(2000);
      expect(await eventTypes(t, acme.token, created.body.id)).toEqual(['payment.created', 'payment.processing', `payment.${status}`]);
    });
  }

  test('an account without callbacks settles by reconciliation only', async () => {
    // A simulator on the test's own clock (same database, same tenant): "not settled yet"
    // must hold however slow the machine is, which a 50 ms settle time on the wall clock
    // did not guarantee, and "settled" needs no sleep.
    let clock = Date.now();
    const timed = await createTestApp({
      env: { NIMBUS_RECONCILE_AFTER_MS: '0' },
      database: t.database,
      definition: { processors: [createSimulator({ now: () => clock })] },
    });
    const timedReconciler = createReconciler(timed.payments, { autoStart: false });
    const created = await call(timed, 'POST', '/v1/payments', acme.token, paymentBody(sepa(IBANS.reconcileOnly)));
    expect(created.body.status).toBe('processing');
    await timedReconciler.runOnce(); // not settled yet at the processor: still processing
    expect((await get(created.body.id)).status).toBe('processing');
    clock += 60_000; // well past the settle time
    await timedReconciler.runOnce();
    expect((await get(created.body.id)).status).toBe('succeeded');
    expect(await eventTypes(t, acme.token, created.body.id)).toEqual(['payment.created', 'payment.processing', 'payment.succeeded']);
  });
});

describe('bank transfers whose callbacks are lost', () => {
  let quiet: TestApp;
  let tenant: TestTenant;
  beforeAll(async () => {
    // A simulator that never delivers callbacks: reconciliation is the only way to learn the outcome.
    quiet = await createTestApp({
      env: { NIMBUS_RECONCILE_AFTER_MS: '0' },
      definition: { processors: [createSimulator({ settleMs: 30, deliverCallback: async () => {} })] },
    });
    tenant = await createTenant(quiet);
  }, 30_000);
  afterAll(() => quiet.close());

  for (const [account, status] of [[ACH_ACCOUNTS.settles, 'succeeded'], [ACH_ACCOUNTS.returned, 'failed']] as const) {
    test(`ACH ${account} ends ${status} by reconciliation`, async () => {
      const created = await call(quiet, 'POST', '/v1/payments', tenant.token, paymentBody(ach(account), { currency: 'USD' }));
      expect(created.body.status).toBe('processing');
      await Bun.sleep(60);
      await createReconciler(quiet.payments, { autoStart: false }).runOnce();
      const payment = (await call(quiet, 'GET', `/v1/payments/${created.body.id}`, tenant.token)).body;
      expect(payment.status).toBe(status);
      if (status === 'failed') expect(payment.failure.code).toBe('R01');
      expect(await eventTypes(quiet, tenant.token, created.body.id)).toEqual(['payment.created', 'payment.processing', `payment.${status}`]);
    });
  }
});

describe('metrics', () => {
  test('payments are counted by method, processor and final status; amounts are no label', async () => {
    const text = await (await t.request('GET', '/metrics')).text();
    expect(text).toMatch(/nimbus_payments_total\{method="card",processor="simulator",status="succeeded"\} \d+/);
    expect(text).toMatch(/nimbus_payments_total\{method="card",processor="simulator",status="failed"\} \d+/);
    expect(text).toMatch(/nimbus_payments_total\{method="bank_transfer",processor="simulator",status="failed"\} \d+/);
    expect(text).not.toMatch(/nimbus_payments_total\{[^}]*amount/);
  });
});
