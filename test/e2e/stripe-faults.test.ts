import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import nimbusConfig from '../../nimbus.config';
import { createReconciler } from '../../plugins/payments';
import { createStripe, STRIPE_ID } from '../../processors/stripe';
import { envFor, startFaultProxy, startStripeTestServer, type FaultProxy, type StripeTestServer } from '../../processors/stripe/testing';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, type TestTenant } from '../helpers/auth';
import { call, card, CARDS, eventTypes, paymentBody } from '../helpers/payments';

/**
 * Stripe behind a loopback proxy that delays or fails what passes (bounded: one delayed
 * answer, a fixed number of failing payments). A timeout leaves the payment processing
 * until reconciliation finds the PaymentIntent by its key; a failing Stripe opens the
 * circuit breaker and payments fail over to the next processor.
 */
const TIMEOUT_MS = 2_000;

let server: StripeTestServer;
let proxy: FaultProxy;
let t: TestApp;
let tenant: TestTenant;

beforeAll(async () => {
  server = await startStripeTestServer();
  proxy = await startFaultProxy(server.url);
  t = await createTestApp({
    env: { ...envFor(server, proxy.url), NIMBUS_RECONCILE_AFTER_MS: '0' },
    definition: { processors: [createStripe({ timeoutMs: TIMEOUT_MS }), ...nimbusConfig.processors.filter((processor) => processor.id !== STRIPE_ID)] },
  });
  tenant = await createTenant(t);
}, 60_000);
afterAll(async () => {
  await t?.close();
  await proxy?.stop();
  await server?.stop();
});

const payment = async (id: string) => (await call(t, 'GET', `/v1/payments/${id}`, tenant.token)).body;

describe('Stripe faults', () => {
  test('no answer in time: the payment stays processing, and reconciliation settles it from Stripe', async () => {
    // The request reaches Stripe (the PaymentIntent is created); its answer comes after the timeout.
    proxy.setMode({ kind: 'delay', ms: TIMEOUT_MS + 1_500 }, ({ path }) => path === '/v1/payment_intents');
    const created = await call(t, 'POST', '/v1/payments', tenant.token, paymentBody(card(CARDS.visa)));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'processing', processor: 'stripe', failure: null });
    proxy.setMode({ kind: 'pass' });
    await proxy.drain();

    const [intent] = server.state.intents().filter((candidate) => candidate.metadata.nimbus_idempotency_key === `nimbus:${created.body.id}:authorize`);
    expect(intent).toMatchObject({ status: 'succeeded' });

    // Stripe's own event cannot settle it (no reference is known yet): acknowledged, unmatched.
    const event = server.events.findLast((candidate) => candidate.type === 'payment_intent.succeeded' && (candidate.data as { object: { id: string } }).object.id === intent!.id)!;
    const signed = await server.signedEventRequest(event);
    const callback = await t.request('POST', `/v1/processors/${STRIPE_ID}/webhooks`, {
      body: await signed.text(),
      headers: { 'stripe-signature': signed.headers.get('stripe-signature')!, 'content-type': 'application/json' },
    });
    expect(await callback.json()).toEqual({ received: true, outcome: 'unmatched' });
    expect((await payment(created.body.id)).status).toBe('processing');

    const reconciler = createReconciler(t.payments, { autoStart: false });
    for (let pass = 0; pass < 5 && (await payment(created.body.id)).status === 'processing'; pass += 1) await reconciler.runOnce();
    expect(await payment(created.body.id)).toMatchObject({ status: 'succeeded', processor_reference: intent!.id, amount_received: 2000 });
    expect(await eventTypes(t, tenant.token, created.body.id)).toEqual(['payment.created', 'payment.processing', 'payment.succeeded']);
    // One PaymentIntent for the payment: nothing was charged twice.
    expect(server.state.intents().filter((candidate) => candidate.metadata.nimbus_idempotency_key === `nimbus:${created.body.id}:authorize`)).toHaveLength(1);
  }, 30_000);

  test('a failing Stripe: each payment fails over to the simulator, then the breaker opens and Stripe is not asked', async () => {
    proxy.setMode({ kind: 'fail', status: 503 });
    const asked: number[] = [];
    for (let index = 0; index < 7; index += 1) {
      const before = proxy.seen.length;
      const created = await call(t, 'POST', '/v1/payments', tenant.token, paymentBody(card(CARDS.visa)));
      expect(created.body).toMatchObject({ status: 'succeeded', processor: 'simulator' });
      asked.push(proxy.seen.length - before);
    }
    proxy.setMode({ kind: 'pass' });
    // Five failed payments (three tries each, same key) open the circuit; after that Stripe is skipped.
    expect(asked).toEqual([3, 3, 3, 3, 3, 0, 0]);
    expect(await t.metrics.registry.metrics()).toContain('nimbus_processor_circuit_open{processor="stripe"} 1');
    expect(server.violations).toEqual([]);
  }, 30_000);
});
