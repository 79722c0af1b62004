import { describe, expect, test } from 'bun:test';
import { Value } from '@sinclair/typebox/value';
import { createRegistry } from '../../../runtime/registry/index.ts';
import { card } from '../card/index.ts';
import { caught, FINGERPRINT_KEY, NOW } from '../test-helpers.ts';
import { cardToken, CardTokenPublic } from './index.ts';

const ctx = { currency: 'EUR', now: NOW };
const registry = createRegistry({ paymentMethods: [card, cardToken], processors: [] });

describe('card_token payment method', () => {
  test('accepts processor ids such as Stripe PaymentMethods', () => {
    for (const token of ['pm_card_visa', 'pm_1NvKqR2eZvKYlo2C0a1b2c3d', 'card_1Abc']) {
      expect(() => registry.validatePaymentMethod({ type: 'card_token', card_token: { token } }, ctx)).not.toThrow();
    }
  });

  test('structure and format errors name the full param', () => {
    const missing = caught(() => registry.validatePaymentMethod({ type: 'card_token', card_token: {} }, ctx));
    expect([missing.code, missing.param]).toEqual(['parameter_missing', 'payment_method.card_token.token']);
    const unknown = caught(() => registry.validatePaymentMethod({ type: 'card_token', card_token: { token: 'pm_x1', number: '4242424242424242' } }, ctx));
    expect([unknown.code, unknown.param]).toEqual(['parameter_unknown', 'payment_method.card_token.number']);
    const bad = caught(() => registry.validatePaymentMethod({ type: 'card_token', card_token: { token: 'pm x<script>' } }, ctx));
    expect([bad.code, bad.param]).toEqual(['parameter_invalid', 'payment_method.card_token.token']);
    expect(bad.message).not.toContain('script');
  });

  test('the card contract is unchanged beside it: an empty card still misses its number', () => {
    const error = caught(() => registry.validatePaymentMethod({ type: 'card', card: {} }, ctx));
    expect([error.status, error.code, error.param]).toEqual([400, 'parameter_missing', 'payment_method.card.number']);
    const token = caught(() => registry.validatePaymentMethod({ type: 'card', card: { token: 'pm_card_visa' } }, ctx));
    expect(token.param).toMatch(/^payment_method\.card\./);
  });

  test('the public view is a keyed fingerprint, never the token', () => {
    const view = registry.redactPaymentMethod({ type: 'card_token', card_token: { token: 'pm_card_visa' } }, { fingerprintKey: FINGERPRINT_KEY });
    expect(Value.Check(registry.paymentMethodPublic, view)).toBe(true);
    expect(JSON.stringify(view)).not.toContain('pm_card_visa');
    const again = cardToken.redact({ token: 'pm_card_visa' }, { fingerprintKey: FINGERPRINT_KEY });
    expect(Value.Check(CardTokenPublic, again)).toBe(true);
    expect(view).toEqual({ type: 'card_token', card_token: again });
    expect(cardToken.redact({ token: 'pm_card_mastercard' }, { fingerprintKey: FINGERPRINT_KEY }).fingerprint).not.toBe(again.fingerprint);
  });
});
