import { describe, expect, test } from 'bun:test';
import { Value } from '@sinclair/typebox/value';
import { caught, FINGERPRINT_KEY, NOW } from './test-helpers.ts';
import { createRegistry } from '../../runtime/registry/index.ts';
import { bankTransfer, card } from './index.ts';

/** The union and the checks come from the registry, built from the registered methods. */
const registry = createRegistry({ paymentMethods: [card, bankTransfer], processors: [] });
const PaymentMethodRequest = registry.paymentMethodRequest;
const PaymentMethodPublic = registry.paymentMethodPublic;
const validatePaymentMethod: typeof registry.validatePaymentMethod = (value, ctx) => registry.validatePaymentMethod(value, ctx);
const redactPaymentMethod = registry.redactPaymentMethod;

const ctx = { currency: 'EUR', now: NOW };

describe('payment_method union', () => {
  test('the request schema accepts the API.md examples and rejects unknown fields', () => {
    const cardMethod = {
      type: 'card',
      card: { number: '4242424242424242', exp_month: 12, exp_year: 2030, cvc: '123', holder_name: 'Jane Doe' },
    };
    const sepaMethod = {
      type: 'bank_transfer',
      bank_transfer: { scheme: 'sepa', iban: 'DE89370400440532013000', bic: 'COBADEFFXXX', account_holder_name: 'Jane Doe' },
    };
    expect(Value.Check(PaymentMethodRequest, cardMethod)).toBe(true);
    expect(Value.Check(PaymentMethodRequest, sepaMethod)).toBe(true);
    expect(Value.Check(PaymentMethodRequest, { ...cardMethod, extra: 1 })).toBe(false);
    expect(Value.Check(PaymentMethodRequest, { type: 'card', card: { ...cardMethod.card, pin: '1' } })).toBe(false);
  });

  test('validatePaymentMethod reports the type and the missing details object by path', () => {
    expect(caught(() => validatePaymentMethod({}, ctx)).param).toBe('payment_method.type');
    expect(caught(() => validatePaymentMethod({ type: 'cash' }, ctx)).param).toBe('payment_method.type');
    const missing = caught(() => validatePaymentMethod({ type: 'card' }, ctx));
    expect([missing.code, missing.param]).toEqual(['parameter_missing', 'payment_method.card']);
    const bad = caught(() =>
      validatePaymentMethod({ type: 'card', card: { number: '4242424242424241', exp_month: 1, exp_year: 2030, cvc: '123' } }, ctx),
    );
    expect([bad.code, bad.param]).toEqual(['card_number_invalid', 'payment_method.card.number']);
  });

  test('redactPaymentMethod gives the public union', () => {
    const method = {
      type: 'bank_transfer' as const,
      bank_transfer: { scheme: 'sepa' as const, iban: 'DE89370400440532013000', account_holder_name: 'Jane Doe' },
    };
    validatePaymentMethod(method, ctx);
    const view = redactPaymentMethod(method, { fingerprintKey: FINGERPRINT_KEY });
    expect(Value.Check(PaymentMethodPublic, view)).toBe(true);
  });
});
