import { describe, expect, test } from 'bun:test';
import type { PaymentIntent, PaymentIntentStatus, StripeEvent } from './model.ts';
import { STRIPE_TEST_CARDS } from './test-cards.ts';
import * as wire from './transformers.ts';

const intent = (status: PaymentIntentStatus, extra: Partial<PaymentIntent> = {}): PaymentIntent => ({
  id: 'pi_1',
  object: 'payment_intent',
  status,
  amount: 2000,
  currency: 'eur',
  ...extra,
});

const card = (number: string) => ({ type: 'card' as const, card: { number, exp_month: 12, exp_year: 2030, cvc: '123' } });

describe('PaymentIntent status mapping', () => {
  test.each([
    ['succeeded', { status: 'succeeded' }],
    ['requires_capture', { status: 'authorized' }],
    ['processing', { status: 'pending' }],
    ['canceled', { status: 'canceled' }],
    ['requires_confirmation', { status: 'pending' }],
    ['requires_payment_method', { status: 'pending' }],
    ['requires_action', { status: 'failed', code: 'card_declined', declineCode: 'authentication_required' }],
  ] as const)('%s -> %j', (status, expected) => {
    expect(wire.intentState(intent(status))).toMatchObject(expected);
  });

  test('requires_payment_method after a failed attempt is the decline Stripe kept', () => {
    const failed = intent('requires_payment_method', { last_payment_error: { type: 'card_error', code: 'card_declined', decline_code: 'lost_card' } });
    expect(wire.paymentSyncFrom(failed)).toEqual({ kind: 'payment', reference: 'pi_1', status: 'failed', code: 'card_declined', declineCode: 'lost_card', message: 'Your card was declined.' });
  });

  test('authorize: 3-D Secure is declined with authentication_required, a canceled fresh intent is not a decline', () => {
    expect(wire.authorizeResultFrom(intent('requires_action'))).toMatchObject({ status: 'declined', reference: 'pi_1', declineCode: 'authentication_required' });
    expect(() => wire.authorizeResultFrom(intent('canceled'))).toThrow();
  });
});

describe('decline codes', () => {
  test.each([
    [{ code: 'card_declined', decline_code: 'insufficient_funds' }, { code: 'card_declined', declineCode: 'insufficient_funds', message: 'Your card has insufficient funds.' }],
    [{ code: 'card_declined' }, { code: 'card_declined', declineCode: 'generic_decline' }],
    [{ code: 'expired_card' }, { code: 'expired_card', message: 'Your card has expired.' }],
    [{ code: 'incorrect_cvc' }, { code: 'incorrect_cvc' }],
    [{ code: 'invalid_cvc' }, { code: 'incorrect_cvc' }],
    [{ code: 'authentication_required', decline_code: 'authentication_required' }, { code: 'card_declined', declineCode: 'authentication_required' }],
    [{ code: 'incorrect_number' }, { code: 'card_declined', declineCode: 'incorrect_number' }],
    [{ code: 'card_declined', decline_code: 'Robert"); DROP' }, { code: 'card_declined', declineCode: 'generic_decline' }],
  ] as const)('%j -> %j', (error, expected) => {
    expect(wire.declineFrom(error)).toMatchObject(expected);
  });
});

describe('card data', () => {
  test("test mode: Stripe's published test cards become their test PaymentMethods; other numbers are never sent", () => {
    expect(wire.paymentMethodFor(card('4242424242424242'), 'test')).toEqual({ kind: 'send', paymentMethod: 'pm_card_visa' });
    expect(wire.paymentMethodFor(card('4000000000009995'), 'test')).toEqual({ kind: 'send', paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds' });
    expect(wire.paymentMethodFor(card('4111111111111111'), 'test')).toEqual({ kind: 'not_a_test_card' });
    expect(Object.values(STRIPE_TEST_CARDS).every((pm) => pm.startsWith('pm_card_'))).toBe(true);
  });

  test('live mode takes no card numbers at all; a card_token is sent as the PaymentMethod', () => {
    expect(wire.paymentMethodFor(card('4242424242424242'), 'live')).toEqual({ kind: 'card_data_not_accepted' });
    const token = { type: 'card_token' as const, card_token: { token: 'pm_1NvKqR2eZvKYlo2C0a1b2c3d' } };
    expect(wire.paymentMethodFor(token, 'live')).toEqual({ kind: 'send', paymentMethod: 'pm_1NvKqR2eZvKYlo2C0a1b2c3d' });
    expect(wire.paymentMethodFor({ type: 'card_token', card_token: { token: 'tok-from-elsewhere' } }, 'test')).toEqual({ kind: 'token_invalid' });
  });

  test('the key decides the mode', () => {
    expect([wire.modeOf('sk_test_abc'), wire.modeOf('rk_test_abc'), wire.modeOf('sk_live_abc')]).toEqual(['test', 'test', 'live']);
  });
});

describe('request parameters', () => {
  const input = { idempotencyKey: 'nimbus:pay_1:authorize', amount: 2000, currency: 'EUR', capture: false, description: 'Order 1' };

  test('create: lowercase currency, manual capture, confirmed at once, cards only, the key in metadata', () => {
    expect(wire.createIntentParams(input, 'pm_card_visa')).toEqual({
      amount: 2000,
      currency: 'eur',
      capture_method: 'manual',
      confirm: true,
      payment_method: 'pm_card_visa',
      payment_method_types: ['card'],
      description: 'Order 1',
      metadata: { nimbus_idempotency_key: 'nimbus:pay_1:authorize' },
    });
  });

  test('cancel and refund reasons: only the values Stripe accepts; an expired authorization is abandoned', () => {
    expect(wire.cancelParams({ idempotencyKey: 'k', reference: 'pi_1', reason: 'automatic' })).toEqual({ cancellation_reason: 'abandoned' });
    expect(wire.cancelParams({ idempotencyKey: 'k', reference: 'pi_1', reason: 'requested_by_customer' })).toEqual({ cancellation_reason: 'requested_by_customer' });
    expect(wire.cancelParams({ idempotencyKey: 'k', reference: 'pi_1', reason: 'other' })).toEqual({});
    expect(wire.refundParams({ idempotencyKey: 'k', reference: 'pi_1', amount: 5, currency: 'EUR', reason: 'abandoned' })).toEqual({
      payment_intent: 'pi_1',
      amount: 5,
      metadata: { nimbus_idempotency_key: 'k' },
    });
  });

  test('the search query quotes the key', () => {
    expect(wire.searchQueryFor("nimbus:pay_1:authorize")).toBe("metadata['nimbus_idempotency_key']:'nimbus:pay_1:authorize'");
    expect(wire.searchQueryFor("a'b\\c")).toBe("metadata['nimbus_idempotency_key']:'a\\'b\\\\c'");
  });
});

describe('refunds', () => {
  const refund = (status: string | null, failure_reason?: string) => ({ id: 're_1', object: 'refund' as const, amount: 5, status, ...(failure_reason ? { failure_reason } : {}) });

  test.each([
    ['succeeded', undefined, { status: 'succeeded' }],
    ['pending', undefined, { status: 'pending' }],
    ['requires_action', undefined, { status: 'pending' }],
    ['failed', 'expired_or_canceled_card', { status: 'failed', code: 'expired_or_canceled_card' }],
    ['failed', undefined, { status: 'failed', code: 'refund_failed' }],
    ['canceled', undefined, { status: 'failed', code: 'refund_canceled' }],
    [null, undefined, { status: 'pending' }],
    ['something_new', undefined, { status: 'pending' }],
  ] as const)('%s -> %j', (status, reason, expected) => {
    expect(wire.refundState(refund(status, reason))).toMatchObject(expected);
  });
});

describe('webhook events', () => {
  const event = (type: string, object: Record<string, unknown>): StripeEvent => ({ id: 'evt_1', object: 'event', type, created: 1, data: { object } });

  test('payment_intent.* carry the PaymentIntent; refund events the Refund', () => {
    expect(wire.webhookEventFrom(event('payment_intent.succeeded', intent('succeeded')))).toEqual({ eventId: 'evt_1', kind: 'payment', reference: 'pi_1', status: 'succeeded' });
    expect(wire.webhookEventFrom(event('payment_intent.amount_capturable_updated', intent('requires_capture')))).toMatchObject({ status: 'authorized' });
    expect(wire.webhookEventFrom(event('payment_intent.canceled', intent('canceled')))).toMatchObject({ status: 'canceled' });
    const refund = { id: 're_1', object: 'refund', amount: 5, status: 'failed', failure_reason: 'expired_or_canceled_card' };
    for (const type of ['charge.refund.updated', 'refund.updated']) {
      expect(wire.webhookEventFrom(event(type, refund))).toEqual({ eventId: 'evt_1', kind: 'refund', reference: 're_1', status: 'failed', code: 'expired_or_canceled_card', message: 'Stripe could not complete the refund.' });
    }
  });

  test('other types are not mapped; a payment_intent event without a PaymentIntent cannot be read', () => {
    expect(wire.webhookEventFrom(event('charge.succeeded', { id: 'ch_1', object: 'charge' }))).toBeUndefined();
    expect(() => wire.webhookEventFrom(event('payment_intent.succeeded', { id: 'ch_1', object: 'charge' }))).toThrow();
  });
});
