import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Server } from 'node:http';
import qs from 'qs';
import { createExpressApp } from 'stripe-stateful-mock';
import { startStripeTestServer, type StripeTestServer } from './testing/index.ts';

/**
 * The Stripe test server against a third party's Stripe emulator, stripe-stateful-mock
 * (which serves Charges and Refunds, not PaymentIntents): where both model the same thing
 * (declines of Stripe's test cards, refund arithmetic, idempotent replay and key reuse),
 * they must answer alike. Compared: HTTP status and the error's type, code, decline_code
 * and param (messages are free text); refund amounts and statuses.
 */
let ours: StripeTestServer;
let mock: Server;
let mockUrl: string;
let counter = 0;

beforeAll(async () => {
  // The emulator logs refused idempotent requests at error level; these tests make some on purpose.
  await import('loglevel').then((log) => log.default.setLevel('silent')).catch(() => undefined);
  ours = await startStripeTestServer();
  mock = createExpressApp().listen(0, '127.0.0.1');
  await new Promise((resolve) => mock.once('listening', resolve));
  mockUrl = `http://127.0.0.1:${(mock.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => mock.close(resolve));
  await ours.stop();
});

type Answer = { status: number; body: Record<string, any>; replayed: boolean };

async function post(base: string, secretKey: string, path: string, params: Record<string, unknown>, key = `cross-${(counter += 1)}`): Promise<Answer> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${secretKey}`,
      'stripe-version': '2023-08-16',
      'content-type': 'application/x-www-form-urlencoded',
      'idempotency-key': key,
    },
    body: qs.stringify(params, { arrayFormat: 'indices' }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any>, replayed: response.headers.get('idempotent-replayed') === 'true' };
}

const viaMock = (path: string, params: Record<string, unknown>, key?: string) => post(mockUrl, 'sk_test_crossCheck', path, params, key);
const viaOurs = (path: string, params: Record<string, unknown>, key?: string) => post(ours.url, ours.secretKey, path, params, key);

/** What both must agree on. */
function shape(answer: Answer) {
  const error = answer.body.error as Record<string, unknown> | undefined;
  return error
    ? { status: answer.status, type: error.type, code: error.code, decline_code: error.decline_code, param: error.param }
    : { status: answer.status, amount: answer.body.amount, status_field: answer.body.status };
}

/** A paid card payment on each side: a Charge there, a PaymentIntent here. */
async function paid(testCard: string, options: { capture?: boolean } = {}) {
  const capture = options.capture ?? true;
  const charge = await viaMock('/v1/charges', { amount: 2000, currency: 'eur', source: `tok_${testCard}`, capture });
  const intent = await viaOurs('/v1/payment_intents', {
    amount: 2000,
    currency: 'eur',
    confirm: true,
    capture_method: capture ? 'automatic' : 'manual',
    payment_method: `pm_card_${testCard}`,
    payment_method_types: ['card'],
  });
  return { charge, intent };
}

describe('decline codes of the test cards both model', () => {
  test.each(['visa', 'chargeDeclined', 'chargeDeclinedInsufficientFunds', 'chargeDeclinedFraudulent', 'chargeDeclinedIncorrectCvc', 'chargeDeclinedExpiredCard', 'chargeDeclinedProcessingError'])(
    '%s',
    async (testCard) => {
      const { charge, intent } = await paid(testCard);
      const { status_field: _charge, amount: _a, ...theirs } = shape(charge) as Record<string, unknown>;
      const { status_field: _intent, amount: _b, ...mine } = shape(intent) as Record<string, unknown>;
      expect(mine).toEqual(theirs);
    },
  );
});

describe('refund arithmetic', () => {
  test('partial refunds up to what was received, then nothing remains', async () => {
    const { charge, intent } = await paid('visa');
    const steps: Array<[string, Record<string, unknown>]> = [
      ['first partial refund', { amount: 500 }],
      ['more than remains', { amount: 1501 }],
      ['exactly what remains', { amount: 1500 }],
      ['after a full refund', { amount: 1 }],
      ['without an amount, after a full refund', {}],
    ];
    for (const [what, params] of steps) {
      const theirs = await viaMock('/v1/refunds', { charge: charge.body.id, ...params });
      const mine = await viaOurs('/v1/refunds', { payment_intent: intent.body.id, ...params });
      expect({ what, ...shape(mine) }).toEqual({ what, ...shape(theirs) });
    }
  });

  test('a refund without an amount refunds the rest', async () => {
    const { charge, intent } = await paid('mastercard');
    await viaMock('/v1/refunds', { charge: charge.body.id, amount: 300 });
    await viaOurs('/v1/refunds', { payment_intent: intent.body.id, amount: 300 });
    expect(shape(await viaOurs('/v1/refunds', { payment_intent: intent.body.id }))).toEqual(shape(await viaMock('/v1/refunds', { charge: charge.body.id })));
  });

  test('after a partial capture only the captured amount can be refunded', async () => {
    const { charge, intent } = await paid('visa', { capture: false });
    const capturedThere = await viaMock(`/v1/charges/${charge.body.id}/capture`, { amount: 1500 });
    const capturedHere = await viaOurs(`/v1/payment_intents/${intent.body.id}/capture`, { amount_to_capture: 1500 });
    expect([capturedHere.status, capturedHere.body.amount_received]).toEqual([capturedThere.status, capturedThere.body.amount_captured]);
    for (const amount of [1501, 1500, 1]) {
      const theirs = await viaMock('/v1/refunds', { charge: charge.body.id, amount });
      const mine = await viaOurs('/v1/refunds', { payment_intent: intent.body.id, amount });
      expect({ amount, ...shape(mine) }).toEqual({ amount, ...shape(theirs) });
    }
  });
});

describe('idempotency', () => {
  test('the same key and parameters replay the first answer, declines included', async () => {
    for (const testCard of ['visa', 'chargeDeclinedInsufficientFunds']) {
      const key = `replay-${testCard}-${(counter += 1)}`;
      const chargeParams = { amount: 2000, currency: 'eur', source: `tok_${testCard}` };
      const intentParams = { amount: 2000, currency: 'eur', confirm: true, payment_method: `pm_card_${testCard}`, payment_method_types: ['card'] };
      const [firstThere, againThere] = [await viaMock('/v1/charges', chargeParams, key), await viaMock('/v1/charges', chargeParams, key)];
      const [firstHere, againHere] = [await viaOurs('/v1/payment_intents', intentParams, key), await viaOurs('/v1/payment_intents', intentParams, key)];
      expect([againThere.status, againThere.replayed, againThere.body]).toEqual([firstThere.status, true, firstThere.body]);
      expect([againHere.status, againHere.replayed, againHere.body]).toEqual([firstHere.status, true, firstHere.body]);
      expect(shape(againHere).status).toBe(shape(againThere).status);
    }
  });

  test('the same key with other parameters is refused alike (400 idempotency_error) and executes nothing', async () => {
    const key = `reuse-${(counter += 1)}`;
    await viaMock('/v1/charges', { amount: 2000, currency: 'eur', source: 'tok_visa' }, key);
    await viaOurs('/v1/payment_intents', { amount: 2000, currency: 'eur', confirm: true, payment_method: 'pm_card_visa' }, key);
    const intents = ours.state.intents().length;
    const theirs = await viaMock('/v1/charges', { amount: 2100, currency: 'eur', source: 'tok_visa' }, key);
    const mine = await viaOurs('/v1/payment_intents', { amount: 2100, currency: 'eur', confirm: true, payment_method: 'pm_card_visa' }, key);
    expect(shape(mine)).toEqual(shape(theirs));
    expect(shape(mine)).toMatchObject({ status: 400, type: 'idempotency_error' });
    expect(ours.state.intents().length).toBe(intents);
  });

  test('our side stayed within the contract', () => {
    expect(ours.violations).toEqual([]);
  });
});
