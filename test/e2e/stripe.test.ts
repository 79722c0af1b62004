import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import nimbusConfig from '../../nimbus.config';
import { cardToken } from '../../plugins/payment-methods/card-token';
import { createStripe, STRIPE_ID } from '../../processors/stripe';
import { envFor, startStripeTestServer, type StripeTestServer } from '../../processors/stripe/testing';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, platformToken, type TestTenant } from '../helpers/auth';
import { allStoredText, call, card, CARDS, eventTypes, paymentBody } from '../helpers/payments';

/**
 * NimbusPay's own HTTP API with a tenant routed to Stripe (PUT /v1/tenants/:id/routing;
 * the deployment's own order puts the simulator first), talking to the Stripe test server
 * over loopback through the connector nimbus.config.ts registers when STRIPE_SECRET_KEY is set.
 */
const TOKEN = 'pm_1NimbusE2eTokenVisa';

let server: StripeTestServer;
let t: TestApp;
let tenant: TestTenant;
let other: TestTenant;

beforeAll(async () => {
  server = await startStripeTestServer({ paymentMethods: { [TOKEN]: { brand: 'visa', last4: '4242', outcome: { kind: 'approve', refunds: 'succeed' } } } });
  t = await createTestApp({
    env: envFor(server),
    definition: {
      paymentMethods: [...nimbusConfig.paymentMethods.filter((method) => method.type !== 'card_token'), cardToken],
      processors: [...nimbusConfig.processors.filter((processor) => processor.id !== STRIPE_ID), createStripe()],
    },
  });
  tenant = await createTenant(t, { name: 'Routed to Stripe' });
  other = await createTenant(t, { name: 'Deployment default' });
  const rules = [
    { method: 'card', processors: ['stripe', 'simulator'] },
    { method: 'card_token', processors: ['stripe'] },
  ];
  const routing = await call(t, 'PUT', `/v1/tenants/${tenant.tenantId}/routing`, await platformToken(t, ['platform:admin']), { rules });
  if (routing.status !== 200) throw new Error(`PUT routing answered ${routing.status}: ${routing.text}`);
}, 60_000);
afterAll(async () => {
  await t?.close();
  await server?.stop();
});

const pay = (body: unknown, headers?: Record<string, string>) => call(t, 'POST', '/v1/payments', tenant.token, body, headers);

/** Delivers a Stripe event to NimbusPay's callback route, signed by Stripe's SDK. */
async function deliver(event: Record<string, unknown>, timestamp?: number) {
  const request = await server.signedEventRequest(event, timestamp);
  const response = await t.request('POST', `/v1/processors/${STRIPE_ID}/webhooks`, {
    body: await request.text(),
    headers: { 'stripe-signature': request.headers.get('stripe-signature')!, 'content-type': 'application/json' },
  });
  return { status: response.status, body: (await response.json()) as { received?: boolean; outcome?: string } };
}

const lastEvent = (type: string, objectId: string) =>
  server.events.findLast((event) => event.type === type && (event.data as { object: { id: string } }).object.id === objectId)!;

describe('payments through Stripe', () => {
  test('a tenant routed to Stripe pays through Stripe; a tenant without rules through the deployment default', async () => {
    expect((await pay(paymentBody(card(CARDS.visa)))).body).toMatchObject({ status: 'succeeded', processor: 'stripe' });
    const elsewhere = await call(t, 'POST', '/v1/payments', other.token, paymentBody(card(CARDS.visa)));
    expect(elsewhere.body).toMatchObject({ status: 'succeeded', processor: 'simulator' });
  });

  test('a card payment becomes a PaymentIntent, captured at once', async () => {
    const created = await pay(paymentBody(card(CARDS.visa)), { 'idempotency-key': 'stripe-e2e-1' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'succeeded', processor: 'stripe', amount_received: 2000, failure: null });
    expect(created.body.processor_reference).toStartWith('pi_');
    expect(server.state.intent(created.body.processor_reference)).toMatchObject({ status: 'succeeded', amountReceived: 2000, currency: 'eur' });
    expect(await eventTypes(t, tenant.token, created.body.id)).toEqual(['payment.created', 'payment.succeeded']);
  });

  test('manual capture, partial capture, then refunds up to what was captured', async () => {
    const created = await pay(paymentBody(card(CARDS.mastercard), { capture_method: 'manual' }));
    expect(created.body).toMatchObject({ status: 'requires_capture', processor: 'stripe', amount_capturable: 2000 });
    const reference = created.body.processor_reference as string;
    expect(server.state.intent(reference)).toMatchObject({ status: 'requires_capture', captureMethod: 'manual' });

    const captured = await call(t, 'POST', `/v1/payments/${created.body.id}/capture`, tenant.token, { amount_to_capture: 1500 });
    expect(captured.status).toBe(200);
    expect(captured.body).toMatchObject({ status: 'succeeded', amount_received: 1500, amount_capturable: 0 });
    expect(server.state.intent(reference)).toMatchObject({ status: 'succeeded', amountReceived: 1500 });

    const partial = await call(t, 'POST', '/v1/refunds', tenant.token, { payment: created.body.id, amount: 500 });
    expect(partial.status).toBe(201);
    expect(partial.body).toMatchObject({ status: 'succeeded', amount: 500 });
    const rest = await call(t, 'POST', '/v1/refunds', tenant.token, { payment: created.body.id });
    expect(rest.body).toMatchObject({ status: 'succeeded', amount: 1000 });
    expect((await call(t, 'POST', '/v1/refunds', tenant.token, { payment: created.body.id, amount: 1 })).body.error.code).toBe('refund_exceeds_captured');
    expect((await call(t, 'GET', `/v1/payments/${created.body.id}`, tenant.token)).body.amount_refunded).toBe(1500);
    expect(await eventTypes(t, tenant.token, created.body.id)).toEqual(['payment.created', 'payment.requires_capture', 'payment.succeeded']);
    expect(await eventTypes(t, tenant.token, partial.body.id)).toEqual(['refund.created', 'refund.succeeded']);
  });

  test('a cancel releases the authorization at Stripe', async () => {
    const created = await pay(paymentBody(card(CARDS.visa), { capture_method: 'manual' }));
    const canceled = await call(t, 'POST', `/v1/payments/${created.body.id}/cancel`, tenant.token, { cancellation_reason: 'requested_by_customer' });
    expect(canceled.body).toMatchObject({ status: 'canceled' });
    expect(server.state.intent(created.body.processor_reference)).toMatchObject({ status: 'canceled', cancellationReason: 'requested_by_customer' });
  });

  test("Stripe's declines are the API.md failure object; 3-D Secure fails with authentication_required", async () => {
    const declined = await pay(paymentBody(card(CARDS.insufficientFunds)));
    expect(declined.status).toBe(201);
    expect(declined.body).toMatchObject({ status: 'failed', processor: 'stripe', failure: { code: 'card_declined', decline_code: 'insufficient_funds' } });
    const expired = await pay(paymentBody(card(CARDS.expiredCard)));
    expect(expired.body.failure).toMatchObject({ code: 'expired_card' });

    const threeDs = await pay(paymentBody(card('4000000000003220')));
    expect(threeDs.body).toMatchObject({ status: 'failed', failure: { code: 'card_declined', decline_code: 'authentication_required' } });
    const later = await pay(paymentBody(card('4000000000003220'), { confirm: false }));
    const confirmed = await call(t, 'POST', `/v1/payments/${later.body.id}/confirm`, tenant.token);
    expect(confirmed.status).toBe(402);
    expect(confirmed.body.error).toMatchObject({ type: 'card_error', code: 'card_declined', decline_code: 'authentication_required' });
  });
});

describe('card_token: a card tokenised at Stripe', () => {
  test('the token is sent to Stripe as the PaymentMethod and is never shown, stored or logged', async () => {
    const created = await pay(paymentBody({ type: 'card_token', card_token: { token: TOKEN } }, { capture_method: 'manual' }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'requires_capture', processor: 'stripe', payment_method: { type: 'card_token' } });
    expect(Object.keys(created.body.payment_method.card_token)).toEqual(['fingerprint']);
    expect(server.state.intent(created.body.processor_reference)?.paymentMethod).toBe(TOKEN);
    await call(t, 'POST', `/v1/payments/${created.body.id}/capture`, tenant.token, {});
    const events = await call(t, 'GET', `/v1/events?object_id=${created.body.id}`, tenant.token);
    for (const text of [created.text, events.text, t.logs.text(), await allStoredText(t.database)]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(server.secretKey);
    }
  });

  test('the simulator, which knows no tokens, approves one routed to it', async () => {
    const simulated = await pay(paymentBody({ type: 'card_token', card_token: { token: TOKEN } }, { processor: 'simulator' }));
    expect(simulated.body).toMatchObject({ status: 'succeeded', processor: 'simulator', payment_method: { type: 'card_token' } });
  });

  test('the card contract is unchanged: an empty card still misses its number; a token inside card is unknown', async () => {
    const empty = await pay(paymentBody({ type: 'card', card: {} }));
    expect([empty.status, empty.body.error.code, empty.body.error.param]).toEqual([400, 'parameter_missing', 'payment_method.card.number']);
    const mixed = await pay(paymentBody({ type: 'card', card: { ...card(CARDS.visa).card, token: TOKEN } }));
    expect([mixed.status, mixed.body.error.code]).toEqual([400, 'parameter_unknown']);
  });

  test('the OpenAPI document describes it', async () => {
    const document = await (await t.request('GET', '/docs/json')).text();
    expect(document).toContain('A card tokenised at the processor, instead of card numbers');
    expect(document).toContain('`decline_code` `authentication_required`');
  });
});

describe('Stripe webhooks', () => {
  test('a refund Stripe settles later is pending, then succeeded by its event; a repeat changes nothing', async () => {
    const created = await pay(paymentBody(card('4000000000007726')));
    const refund = await call(t, 'POST', '/v1/refunds', tenant.token, { payment: created.body.id, amount: 700 });
    expect(refund.body).toMatchObject({ status: 'pending' });
    const refundId = (server.events.findLast((event) => event.type === 'refund.created')!.data as { object: { id: string } }).object.id;
    server.settle();
    const event = lastEvent('refund.updated', refundId);
    expect(await deliver(event)).toEqual({ status: 200, body: { received: true, outcome: 'applied' } });
    expect((await call(t, 'GET', `/v1/refunds/${refund.body.id}`, tenant.token)).body.status).toBe('succeeded');
    expect(await deliver(event)).toEqual({ status: 200, body: { received: true, outcome: 'duplicate' } });
    expect(await eventTypes(t, tenant.token, refund.body.id)).toEqual(['refund.created', 'refund.succeeded']);
  });

  test('a canceled PaymentIntent cancels the payment; unsigned, forged and stale events change nothing', async () => {
    const created = await pay(paymentBody(card(CARDS.visa), { capture_method: 'manual' }));
    server.state.cancelIntent(created.body.processor_reference, { cancellation_reason: 'abandoned' });
    const event = lastEvent('payment_intent.canceled', created.body.processor_reference);
    const forged = await t.request('POST', `/v1/processors/${STRIPE_ID}/webhooks`, {
      body: JSON.stringify(event),
      headers: { 'stripe-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'ab'.repeat(32)}` },
    });
    expect(forged.status).toBe(400);
    expect((await deliver(event, Math.floor(Date.now() / 1000) - 600)).status).toBe(400);
    expect((await call(t, 'GET', `/v1/payments/${created.body.id}`, tenant.token)).body.status).toBe('requires_capture');
    expect(await deliver(event)).toEqual({ status: 200, body: { received: true, outcome: 'applied' } });
    expect((await call(t, 'GET', `/v1/payments/${created.body.id}`, tenant.token)).body.status).toBe('canceled');
    expect(await eventTypes(t, tenant.token, created.body.id)).toEqual(['payment.created', 'payment.requires_capture', 'payment.canceled']);
  });

  test("a refund Stripe fails after answering succeeded stays succeeded here (NimbusPay refunds are final): acknowledged, unchanged", async () => {
    const created = await pay(paymentBody(card(CARDS.refundFails)));
    const refund = await call(t, 'POST', '/v1/refunds', tenant.token, { payment: created.body.id });
    expect(refund.body.status).toBe('succeeded');
    const refundId = (server.events.findLast((event) => event.type === 'refund.created')!.data as { object: { id: string } }).object.id;
    server.settle();
    expect(await deliver(lastEvent('charge.refund.updated', refundId))).toEqual({ status: 200, body: { received: true, outcome: 'unchanged' } });
    expect((await call(t, 'GET', `/v1/refunds/${refund.body.id}`, tenant.token)).body.status).toBe('succeeded');
  });

  test('everything the connector sent matched Stripe\'s contract', () => {
    expect(server.violations).toEqual([]);
  });
});
