import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { silentLogger } from '../../runtime/logger.ts';
import { createMetrics } from '../../runtime/metrics.ts';
import { configureProcessor, createProcessorCaller, type AuthorizeInput } from '../sdk/index.ts';
import { createStripe } from './index.ts';
import { credentialsFor, startFaultProxy, startStripeTestServer, type FaultProxy, type StripeTestServer } from './testing/index.ts';

/**
 * The connector against the Stripe test server, through the SDK's real call wrapper.
 * Every request it sends is decoded and checked against Stripe's request schema by the
 * server, every answer against the response schema: `violations` must stay empty.
 */
let server: StripeTestServer;
let proxy: FaultProxy;
let counter = 0;

beforeAll(async () => {
  server = await startStripeTestServer();
  proxy = await startFaultProxy(server.url);
});
afterAll(async () => {
  await proxy.stop();
  await server.stop();
});

function connector(options: { baseUrl?: string; secretKey?: string; timeoutMs?: number; maxAttempts?: number } = {}) {
  const processor = configureProcessor(createStripe({ timeoutMs: options.timeoutMs ?? 20_000 }), {
    ...credentialsFor(server, options.baseUrl),
    ...(options.secretKey ? { secretKey: options.secretKey } : {}),
  });
  const caller = createProcessorCaller({
    metrics: createMetrics(),
    logger: silentLogger,
    retry: { maxAttempts: options.maxAttempts ?? 2, baseDelayMs: 1 },
    breaker: { failureThreshold: 1000 },
  });
  return { processor, caller };
}

const key = (label: string) => `nimbus:pay_test${(counter += 1)}:${label}`;
const card = (number: string) => ({ type: 'card', card: { number, exp_month: 12, exp_year: 2030, cvc: '123' } }) as AuthorizeInput['paymentMethod'];

function authorizeInput(method: AuthorizeInput['paymentMethod'], capture: boolean, idempotencyKey = key('authorize')): AuthorizeInput {
  return { idempotencyKey, amount: 2000, currency: 'EUR', capture, paymentMethod: method, description: 'Order 1234' };
}

const requestsFor = (idempotencyKey: string) => server.requests.filter((request) => request.idempotencyKey === idempotencyKey);

describe('Stripe connector over HTTP', () => {
  let processor: ReturnType<typeof connector>['processor'];
  let caller: ReturnType<typeof connector>['caller'];
  beforeAll(() => void ({ processor, caller } = connector()));

  test('authorize, partial capture and refund: form-encoded, pinned, keyed with the payments layer key', async () => {
    const authorizeKey = key('authorize');
    const authorized = await caller.call(processor, 'authorize', authorizeInput(card('4242424242424242'), false, authorizeKey));
    expect(authorized).toMatchObject({ kind: 'result', value: { status: 'authorized' } });
    const reference = (authorized as { value: { reference: string } }).value.reference;
    expect(reference).toStartWith('pi_');

    const captureKey = key('capture');
    expect(await caller.call(processor, 'capture', { idempotencyKey: captureKey, reference, amount: 1500, currency: 'EUR' })).toEqual({
      kind: 'result',
      value: { status: 'succeeded', reference, amountCaptured: 1500 },
    });
    const refundKey = key('refund');
    const refunded = await caller.call(processor, 'refund', { idempotencyKey: refundKey, reference, amount: 500, currency: 'EUR', reason: 'requested_by_customer' });
    expect(refunded).toMatchObject({ kind: 'result', value: { status: 'succeeded' } });

    const [create] = requestsFor(authorizeKey);
    expect(create).toMatchObject({
      method: 'POST',
      path: '/v1/payment_intents',
      stripeVersion: '2023-08-16',
      params: {
        amount: '2000',
        currency: 'eur',
        capture_method: 'manual',
        confirm: 'true',
        payment_method: 'pm_card_visa',
        payment_method_types: ['card'],
        description: 'Order 1234',
        metadata: { nimbus_idempotency_key: authorizeKey },
      },
    });
    expect(requestsFor(captureKey)[0]).toMatchObject({ path: `/v1/payment_intents/${reference}/capture`, params: { amount_to_capture: '1500' } });
    expect(requestsFor(refundKey)[0]).toMatchObject({ path: '/v1/refunds', params: { payment_intent: reference, amount: '500', reason: 'requested_by_customer' } });
    expect(server.state.intent(reference)).toMatchObject({ status: 'succeeded', amountReceived: 1500, amountCapturable: 0 });
  });

  test('sync reads the PaymentIntent or the refund; by key it searches the metadata; unknown ids are not_found', async () => {
    const authorizeKey = key('authorize');
    const { value } = (await caller.call(processor, 'authorize', authorizeInput(card('5555555555554444'), true, authorizeKey))) as { value: { reference: string } };
    expect(await caller.call(processor, 'sync', { kind: 'payment', reference: value.reference })).toEqual({ kind: 'result', value: { kind: 'payment', reference: value.reference, status: 'succeeded' } });
    expect(await caller.call(processor, 'sync', { kind: 'payment', idempotencyKey: authorizeKey })).toMatchObject({ kind: 'result', value: { reference: value.reference, status: 'succeeded' } });
    expect(await caller.call(processor, 'sync', { kind: 'payment', idempotencyKey: "never'sent" })).toEqual({ kind: 'result', value: { kind: 'payment', status: 'not_found' } });
    expect(await caller.call(processor, 'sync', { kind: 'payment', reference: 'pi_doesnotexist' })).toEqual({ kind: 'result', value: { kind: 'payment', status: 'not_found' } });
    expect(await caller.call(processor, 'sync', { kind: 'refund', reference: 're_doesnotexist' })).toEqual({ kind: 'result', value: { kind: 'refund', status: 'not_found' } });
    expect(await caller.call(processor, 'sync', { kind: 'refund', idempotencyKey: 'nimbus:re_1:refund' })).toEqual({ kind: 'result', value: { kind: 'refund', status: 'not_found' } });
  });

  test('3-D Secure: requires_action fails the payment with authentication_required, and sync agrees', async () => {
    const declined = await caller.call(processor, 'authorize', authorizeInput(card('4000000000003220'), true));
    expect(declined).toMatchObject({ kind: 'result', value: { status: 'declined', code: 'card_declined', declineCode: 'authentication_required' } });
    const reference = (declined as { value: { reference: string } }).value.reference;
    expect(server.state.intent(reference)?.status).toBe('requires_action');
    expect(await caller.call(processor, 'sync', { kind: 'payment', reference })).toMatchObject({ kind: 'result', value: { status: 'failed', declineCode: 'authentication_required' } });
  });

  test("Stripe's processing_error decline is retryable with the same key (the replay answers the same) and nothing else is sent", async () => {
    const authorizeKey = key('authorize');
    const outcome = await caller.call(processor, 'authorize', authorizeInput(card('4000000000000119'), true, authorizeKey));
    expect(outcome).toMatchObject({ kind: 'error', retryable: true, code: 'processing_error' });
    expect(requestsFor(authorizeKey).map((request) => [request.status, request.replayed])).toEqual([[402, false], [402, true]]);
  });

  test('card_token: a Stripe PaymentMethod id goes to Stripe as it is; a foreign token is never sent', async () => {
    const authorizeKey = key('authorize');
    const token = { type: 'card_token', card_token: { token: 'pm_card_mastercard' } } as AuthorizeInput['paymentMethod'];
    expect(await caller.call(processor, 'authorize', authorizeInput(token, true, authorizeKey))).toMatchObject({ kind: 'result', value: { status: 'succeeded' } });
    expect(requestsFor(authorizeKey)[0]?.params.payment_method).toBe('pm_card_mastercard');
    const before = server.requests.length;
    const foreign = { type: 'card_token', card_token: { token: 'adyen-8415718415718415' } } as AuthorizeInput['paymentMethod'];
    expect(await caller.call(processor, 'authorize', authorizeInput(foreign, true))).toMatchObject({ kind: 'error', retryable: false, code: 'token_invalid' });
    expect(server.requests.length).toBe(before);
  });

  test('card numbers: a non-test number in test mode is declined without a request; a live key takes no card numbers', async () => {
    const before = server.requests.length;
    expect(await caller.call(processor, 'authorize', authorizeInput(card('4111111111111111'), true))).toMatchObject({
      kind: 'result',
      value: { status: 'declined', code: 'card_declined', declineCode: 'test_mode_live_card' },
    });
    const live = connector({ secretKey: 'sk_live_notARealKey000000' });
    expect(await live.caller.call(live.processor, 'authorize', authorizeInput(card('4242424242424242'), true))).toMatchObject({
      kind: 'error',
      retryable: false,
      code: 'card_data_not_accepted',
    });
    expect(server.requests.length).toBe(before);
  });

  test('a reused key with other parameters is refused by Stripe and executes nothing', async () => {
    const authorizeKey = key('authorize');
    await caller.call(processor, 'authorize', authorizeInput(card('4242424242424242'), true, authorizeKey));
    const intents = server.state.intents().length;
    const other = await caller.call(processor, 'authorize', { ...authorizeInput(card('4242424242424242'), true, authorizeKey), amount: 2100 });
    expect(other).toMatchObject({ kind: 'error', retryable: false, code: 'idempotency_error' });
    expect(server.state.intents().length).toBe(intents);
  });

  test('unexpected states: capture of a canceled intent is a failed result, capturing more than held a refusal', async () => {
    const { value } = (await caller.call(processor, 'authorize', authorizeInput(card('4242424242424242'), false))) as { value: { reference: string } };
    const tooMuch = await caller.call(processor, 'capture', { idempotencyKey: key('capture'), reference: value.reference, amount: 2001, currency: 'EUR' });
    expect(tooMuch).toMatchObject({ kind: 'error', retryable: false, code: 'amount_too_large' });
    expect(await caller.call(processor, 'cancel', { idempotencyKey: key('cancel'), reference: value.reference, reason: 'automatic' })).toEqual({
      kind: 'result',
      value: { status: 'canceled', reference: value.reference },
    });
    expect(server.state.intent(value.reference)?.cancellationReason).toBe('abandoned');
    expect(await caller.call(processor, 'capture', { idempotencyKey: key('capture'), reference: value.reference, amount: 2000, currency: 'EUR' })).toMatchObject({
      kind: 'result',
      value: { status: 'failed', code: 'payment_intent_unexpected_state' },
    });
  });
});

describe('Stripe connector: what the network does', () => {
  test('429 and 5xx are retryable (retried with the same key), other 4xx are not', async () => {
    const { processor, caller } = connector({ baseUrl: proxy.url });
    try {
      for (const [status, code] of [[429, 'rate_limited'], [503, 'stripe_503'], [500, 'stripe_500']] as const) {
        proxy.setMode({ kind: 'fail', status });
        const seen = proxy.seen.length;
        expect(await caller.call(processor, 'authorize', authorizeInput(card('4242424242424242'), true))).toMatchObject({ kind: 'error', retryable: true, code });
        expect(proxy.seen.length - seen).toBe(2);
      }
      proxy.setMode({ kind: 'fail', status: 403 });
      expect(await caller.call(processor, 'authorize', authorizeInput(card('4242424242424242'), true))).toMatchObject({ kind: 'error', retryable: false });
    } finally {
      proxy.setMode({ kind: 'pass' });
    }
  });

  test("a 500 Stripe saved against the key (Stripe-Should-Retry: false) and a 409 (key in flight) are outcome unknown", async () => {
    const { processor, caller } = connector({ baseUrl: proxy.url });
    try {
      proxy.setMode({ kind: 'fail', status: 500, headers: { 'stripe-should-retry': 'false' } });
      expect(await caller.call(processor, 'authorize', authorizeInput(card('4242424242424242'), true))).toEqual({ kind: 'unknown', reason: 'error' });
    } finally {
      proxy.setMode({ kind: 'pass' });
    }
    const slow = await startStripeTestServer({ latencyMs: 300 });
    try {
      const processorSlow = configureProcessor(createStripe({ timeoutMs: 20_000 }), credentialsFor(slow));
      const authorizeKey = key('authorize');
      const input = authorizeInput(card('4242424242424242'), true, authorizeKey);
      const [first, second] = await Promise.all([caller.call(processorSlow, 'authorize', input), Bun.sleep(50).then(() => caller.call(processorSlow, 'authorize', input))]);
      expect(first).toMatchObject({ kind: 'result', value: { status: 'succeeded' } });
      expect(second).toEqual({ kind: 'unknown', reason: 'error' });
      expect(slow.requests.map((request) => request.status).sort()).toEqual([200, 409]);
      expect(slow.violations).toEqual([]);
    } finally {
      await slow.stop();
    }
  });

  test('no answer in time is unknown (never declined); the intent exists and sync by key finds it', async () => {
    const { processor, caller } = connector({ baseUrl: proxy.url, timeoutMs: 300 });
    const authorizeKey = key('authorize');
    try {
      proxy.setMode({ kind: 'delay', ms: 1_000 });
      expect(await caller.call(processor, 'authorize', authorizeInput(card('4242424242424242'), true, authorizeKey))).toEqual({ kind: 'unknown', reason: 'timeout' });
    } finally {
      proxy.setMode({ kind: 'pass' });
      await proxy.drain();
    }
    const patient = connector({ baseUrl: proxy.url });
    expect(await patient.caller.call(patient.processor, 'sync', { kind: 'payment', idempotencyKey: authorizeKey })).toMatchObject({ kind: 'result', value: { status: 'succeeded' } });
  });

  test('a refused connection is retryable: nothing reached Stripe', async () => {
    const { processor, caller } = connector({ baseUrl: 'http://127.0.0.1:1' });
    expect(await caller.call(processor, 'authorize', authorizeInput(card('4242424242424242'), true))).toMatchObject({ kind: 'error', retryable: true, code: 'stripe_unreachable' });
  });
});

describe("Stripe's contract", () => {
  test('every request the connector sent and every answer and event of the server matched it', () => {
    expect(server.requests.length).toBeGreaterThan(20);
    expect(server.events.length).toBeGreaterThan(10);
    expect(server.violations).toEqual([]);
  });
});
