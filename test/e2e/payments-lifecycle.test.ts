import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createReconciler } from '../../plugins/payments';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, platformToken, type TestTenant } from '../helpers/auth';
import { call, card, CARDS, eventTypes, paymentBody, sepa, IBANS, type Json } from '../helpers/payments';

/** Capture, cancel, every illegal transition (409, nothing changes), authorization expiry. */

let t: TestApp;
let acme: TestTenant;
beforeAll(async () => {
  t = await createTestApp();
  acme = await createTenant(t);
}, 30_000);
afterAll(() => t.close());

const post = (path: string, body?: unknown) => call(t, 'POST', path, acme.token, body);
const get = async (id: string) => (await call(t, 'GET', `/v1/payments/${id}`, acme.token)).body as Json;

async function authorized(amount = 5000): Promise<Json> {
  const created = await post('/v1/payments', paymentBody(card(CARDS.visa), { amount, capture_method: 'manual' }));
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ status: 'requires_capture', amount_capturable: amount, amount_received: 0 });
  return created.body;
}

/** A payment in each status, made through the API. */
async function inStatus(status: string): Promise<Json> {
  switch (status) {
    case 'requires_confirmation':
      return (await post('/v1/payments', paymentBody(card(CARDS.visa), { confirm: false }))).body;
    case 'processing':
      return (await post('/v1/payments', paymentBody(sepa(IBANS.reconcileOnly)))).body;
    case 'requires_capture':
      return authorized();
    case 'succeeded':
      return (await post('/v1/payments', paymentBody(card(CARDS.visa)))).body;
    case 'failed':
      return (await post('/v1/payments', paymentBody(card(CARDS.genericDecline)))).body;
    case 'canceled': {
      const payment = await authorized();
      return (await post(`/v1/payments/${payment.id}/cancel`)).body;
    }
    default:
      throw new Error(status);
  }
}

describe('manual capture', () => {
  test('full capture: requires_capture -> succeeded, events created, requires_capture, succeeded', async () => {
    const payment = await authorized();
    const captured = await post(`/v1/payments/${payment.id}/capture`);
    expect(captured.status).toBe(200);
    expect(captured.body).toMatchObject({ status: 'succeeded', amount_received: 5000, amount_capturable: 0 });
    expect(await eventTypes(t, acme.token, payment.id)).toEqual(['payment.created', 'payment.requires_capture', 'payment.succeeded']);
  });

  test('partial capture takes part, releases the rest, and happens once', async () => {
    const payment = await authorized();
    const captured = await post(`/v1/payments/${payment.id}/capture`, { amount_to_capture: 3000 });
    expect(captured.status).toBe(200);
    expect(captured.body).toMatchObject({ status: 'succeeded', amount: 5000, amount_received: 3000, amount_capturable: 0 });
    const again = await post(`/v1/payments/${payment.id}/capture`, { amount_to_capture: 1000 });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('payment_unexpected_state');
  });

  test('more than amount_capturable is 400 on amount_to_capture; nothing changes', async () => {
    const payment = await authorized();
    const over = await post(`/v1/payments/${payment.id}/capture`, { amount_to_capture: 5001 });
    expect(over.status).toBe(400);
    expect(over.body.error).toMatchObject({ code: 'parameter_invalid', param: 'amount_to_capture' });
    expect(await get(payment.id)).toEqual(payment);
  });

  test('capture body is validated (type, unknown field)', async () => {
    const payment = await authorized();
    expect((await post(`/v1/payments/${payment.id}/capture`, { amount_to_capture: '100' })).body.error).toMatchObject({ param: 'amount_to_capture' });
    expect((await post(`/v1/payments/${payment.id}/capture`, { amount: 100 })).body.error).toMatchObject({ code: 'parameter_unknown', param: 'amount' });
  });

  test('cancel an authorization: canceled with the reason, capturable released', async () => {
    const payment = await authorized();
    const canceled = await post(`/v1/payments/${payment.id}/cancel`, { cancellation_reason: 'requested_by_customer' });
    expect(canceled.status).toBe(200);
    expect(canceled.body).toMatchObject({ status: 'canceled', amount_capturable: 0, cancellation_reason: 'requested_by_customer' });
    expect(await eventTypes(t, acme.token, payment.id)).toEqual(['payment.created', 'payment.requires_capture', 'payment.canceled']);
  });

  test('cancel before confirmation', async () => {
    const payment = await inStatus('requires_confirmation');
    const canceled = await post(`/v1/payments/${payment.id}/cancel`);
    expect(canceled.status).toBe(200);
    expect(canceled.body.status).toBe('canceled');
    expect(await eventTypes(t, acme.token, payment.id)).toEqual(['payment.created', 'payment.canceled']);
    expect((await post(`/v1/payments/${payment.id}/confirm`)).status).toBe(409);
  });

  test('a bad cancellation_reason is 400', async () => {
    const payment = await authorized();
    const bad = await post(`/v1/payments/${payment.id}/cancel`, { cancellation_reason: 'bored' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('cancellation_reason');
  });
});

describe('every illegal transition answers 409 and changes nothing', () => {
  const allowed: Record<string, string[]> = {
    requires_confirmation: ['confirm', 'cancel'],
    processing: [],
    requires_capture: ['capture', 'cancel'],
    succeeded: [],
    failed: [],
    canceled: [],
  };
  for (const [status, actions] of Object.entries(allowed)) {
    for (const action of ['confirm', 'capture', 'cancel'].filter((candidate) => !actions.includes(candidate))) {
      test(`${action} from ${status}`, async () => {
        const payment = await inStatus(status);
        expect(payment.status).toBe(status);
        const before = await get(payment.id);
        const eventsBefore = await eventTypes(t, acme.token, payment.id);
        const answer = await post(`/v1/payments/${payment.id}/${action}`);
        expect(answer.status).toBe(409);
        expect(answer.body.error).toMatchObject({ type: 'invalid_request_error', code: 'payment_unexpected_state' });
        expect(await get(payment.id)).toEqual(before);
        expect(await eventTypes(t, acme.token, payment.id)).toEqual(eventsBefore);
      });
    }
  }

  test('racing confirms: exactly one wins', async () => {
    const payment = await inStatus('requires_confirmation');
    const answers = await Promise.all(Array.from({ length: 5 }, () => post(`/v1/payments/${payment.id}/confirm`)));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 409)).toHaveLength(4);
    expect(await eventTypes(t, acme.token, payment.id)).toEqual(['payment.created', 'payment.succeeded']);
  });

  test('racing capture and cancel: exactly one wins', async () => {
    const payment = await authorized();
    const [capture, cancel] = await Promise.all([post(`/v1/payments/${payment.id}/capture`), post(`/v1/payments/${payment.id}/cancel`)]);
    expect([capture.status, cancel.status].sort()).toEqual([200, 409]);
    const events = await eventTypes(t, acme.token, payment.id);
    expect(events).toHaveLength(3);
  });
});

describe('authorization expiry', () => {
  test('an authorization left in requires_capture expires to canceled', async () => {
    const short = await createTestApp({ env: { NIMBUS_AUTHORIZATION_TTL_MS: '20' }, database: t.database });
    const created = await call(short, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { capture_method: 'manual' }));
    expect(created.body.status).toBe('requires_capture');
    const reconciler = createReconciler(short.payments, { autoStart: false });
    await Bun.sleep(40);
    expect((await reconciler.runOnce()).expired).toBeGreaterThanOrEqual(1);
    const payment = await get(created.body.id);
    expect(payment).toMatchObject({ status: 'canceled', cancellation_reason: 'automatic', amount_capturable: 0 });
    expect(await eventTypes(t, acme.token, payment.id)).toEqual(['payment.created', 'payment.requires_capture', 'payment.canceled']);
    expect((await post(`/v1/payments/${payment.id}/capture`)).status).toBe(409);
  });

  test('a fresh authorization does not expire', async () => {
    const payment = await authorized();
    await createReconciler(t.payments, { autoStart: false }).runOnce();
    expect((await get(payment.id)).status).toBe('requires_capture');
  });
});

describe('validation, existence and tenancy', () => {
  test('unknown currency, lowercase currency, bad amount, unknown field', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ currency: 'XYZ' }, 'currency_unsupported', 'currency'],
      [{ currency: 'eur' }, 'currency_unsupported', 'currency'],
      [{ amount: 0 }, 'parameter_invalid', 'amount'],
      [{ amount: 100000000 }, 'parameter_invalid', 'amount'],
      [{ amount: '2000' }, 'parameter_invalid', 'amount'],
      [{ amount: 20.5 }, 'parameter_invalid', 'amount'],
      [{ surprise: true }, 'parameter_unknown', 'surprise'],
      [{ capture_method: 'later' }, 'parameter_invalid', 'capture_method'],
      [{ processor: 'nope' }, 'parameter_invalid', 'processor'],
      [{ metadata: { k: 1 } }, 'parameter_invalid', 'metadata.k'],
      [{ metadata: { ['k'.repeat(41)]: 'v' } }, 'parameter_invalid', 'metadata'],
    ];
    for (const [overrides, code, param] of cases) {
      const answer = await post('/v1/payments', paymentBody(card(CARDS.visa), overrides));
      expect([answer.status, answer.body.error.code, answer.body.error.param]).toEqual([400, code, param]);
    }
    const missing = await post('/v1/payments', { currency: 'EUR', payment_method: card(CARDS.visa) });
    expect(missing.body.error).toMatchObject({ code: 'parameter_missing', param: 'amount' });
    const badCard = await post('/v1/payments', paymentBody(card('4242424242424241')));
    expect(badCard.body.error).toMatchObject({ code: 'card_number_invalid', param: 'payment_method.card.number' });
    const expired = await post('/v1/payments', paymentBody(card(CARDS.visa, { exp_year: 2020 })));
    expect(expired.body.error).toMatchObject({ code: 'card_expired', param: 'payment_method.card.exp_month' });
    const sepaUsd = await post('/v1/payments', paymentBody(sepa(IBANS.settles), { currency: 'USD' }));
    expect(sepaUsd.body.error).toMatchObject({ code: 'currency_unsupported', param: 'currency' });
  });

  test('confirm takes no parameters: unknown fields are 400, an empty body is fine', async () => {
    const payment = await inStatus('requires_confirmation');
    const bad = await post(`/v1/payments/${payment.id}/confirm`, { amount: 1 });
    expect([bad.status, bad.body.error.code, bad.body.error.param]).toEqual([400, 'parameter_unknown', 'amount']);
    expect((await post(`/v1/payments/${payment.id}/confirm`, {})).status).toBe(200);
  });

  test('zero-decimal currencies take whole units', async () => {
    const yen = await post('/v1/payments', paymentBody(card(CARDS.visa), { amount: 500, currency: 'JPY' }));
    expect(yen.body).toMatchObject({ status: 'succeeded', amount: 500, currency: 'JPY', amount_received: 500 });
  });

  test('another tenant sees 404 for every payment route', async () => {
    const other = await createTenant(t, { name: 'Other' });
    const payment = await authorized();
    for (const [method, path] of [
      ['GET', `/v1/payments/${payment.id}`],
      ['POST', `/v1/payments/${payment.id}/capture`],
      ['POST', `/v1/payments/${payment.id}/cancel`],
      ['POST', `/v1/payments/${payment.id}/confirm`],
    ] as const) {
      const answer = await call(t, method, path, other.token);
      expect([answer.status, answer.body.error.code]).toEqual([404, 'resource_missing']);
    }
    expect((await get(payment.id)).status).toBe('requires_capture');
  });

  test('scopes: reading needs payments:read, writing payments:write; support reads with Nimbus-Tenant', async () => {
    const reader = await acme.tokenWith(['payments:read']);
    expect((await call(t, 'POST', '/v1/payments', reader, paymentBody(card(CARDS.visa)))).status).toBe(403);
    expect((await call(t, 'GET', '/v1/payments', reader)).status).toBe(200);
    const eventsOnly = await acme.tokenWith(['events:read']);
    expect((await call(t, 'GET', '/v1/payments', eventsOnly)).status).toBe(403);
    expect((await t.request('GET', '/v1/payments')).status).toBe(401);
    const support = await platformToken(t, ['platform:support']);
    const listed = await call(t, 'GET', '/v1/payments?limit=1', support, undefined, { 'Nimbus-Tenant': acme.tenantId });
    expect(listed.status).toBe(200);
    expect(listed.body.data).toHaveLength(1);
    expect((await call(t, 'POST', '/v1/payments', support, paymentBody(card(CARDS.visa)), { 'Nimbus-Tenant': acme.tenantId })).status).toBe(403);
  });
});
