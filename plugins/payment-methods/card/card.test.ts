import { describe, expect, test } from 'bun:test';
import { Value } from '@sinclair/typebox/value';
import { caught, FINGERPRINT_KEY, NOW } from '../test-helpers.ts';
import { card, cardBrandOf, CardPublic, type CardDetails } from './index.ts';

const ctx = { currency: 'EUR', now: NOW };

function details(overrides: Partial<CardDetails> = {}): CardDetails {
  return { number: '4242424242424242', exp_month: 12, exp_year: 2030, cvc: '123', ...overrides };
}

/** Every card of the API.md simulator table, with the brand its IIN gives. */
const API_MD_CARDS = [
  ['4242424242424242', 'visa'],
  ['5555555555554444', 'mastercard'],
  ['378282246310005', 'amex'],
  ['6011111111111117', 'discover'],
  ['4000000000000002', 'visa'],
  ['4000000000009995', 'visa'],
  ['4000000000009987', 'visa'],
  ['4000000000000069', 'visa'],
  ['4000000000000127', 'visa'],
  ['4000000000000119', 'visa'],
  ['4000000000000408', 'visa'],
  ['4000000000005126', 'visa'],
] as const;

describe('card validation', () => {
  test.each(API_MD_CARDS)('accepts API.md card %s as %s', (number, brand) => {
    const cvc = brand === 'amex' ? '1234' : '123';
    expect(() => card.validate(details({ number, cvc }), ctx)).not.toThrow();
    expect(cardBrandOf(number)).toBe(brand);
  });

  test.each([
    ['2223003122003222', 'mastercard'],
    ['6445644564456445', 'discover'],
    ['3566002020360505', 'jcb'],
    ['36227206271667', 'diners'],
  ] as const)('recognises %s as %s', (number, brand) => {
    expect(cardBrandOf(number)).toBe(brand);
  });

  test.each([
    ['fails Luhn', '4242424242424241'],
    ['has letters', '4242abcd42424242'],
    ['has spaces', '4242 4242 4242 4242'],
    ['is too short', '42424242424'],
    ['has an unknown IIN', '9999999999999995'],
    ['has the wrong length for its brand', '37828224631003'],
  ])('rejects a number that %s with card_number_invalid', (_why, number) => {
    const error = caught(() => card.validate(details({ number }), ctx));
    expect(error.status).toBe(400);
    expect(error.code).toBe('card_number_invalid');
    expect(error.param).toBe('payment_method.card.number');
    expect(error.message).not.toContain(number);
  });

  test('an expiry in a past month is card_expired on exp_month', () => {
    const error = caught(() => card.validate(details({ exp_month: 10, exp_year: 2026 }), ctx));
    expect([error.status, error.code, error.param]).toEqual([400, 'card_expired', 'payment_method.card.exp_month']);
    expect(caught(() => card.validate(details({ exp_month: 12, exp_year: 2025 }), ctx)).code).toBe('card_expired');
  });

  test('the current month is still valid', () => {
    expect(() => card.validate(details({ exp_month: 11, exp_year: 2026 }), ctx)).not.toThrow();
  });

  test('a two-digit or absurd year is parameter_invalid on exp_year', () => {
    for (const exp_year of [30, 2200]) {
      const error = caught(() => card.validate(details({ exp_year }), ctx));
      expect([error.code, error.param]).toEqual(['parameter_invalid', 'payment_method.card.exp_year']);
    }
  });

  test.each([
    ['visa with 4 digits', '4242424242424242', '1234'],
    ['visa with 2 digits', '4242424242424242', '12'],
    ['visa with letters', '4242424242424242', '12a'],
    ['amex with 3 digits', '378282246310005', '123'],
  ])('rejects the CVC of %s', (_why, number, cvc) => {
    const error = caught(() => card.validate(details({ number, cvc }), ctx));
    expect([error.code, error.param]).toEqual(['parameter_invalid', 'payment_method.card.cvc']);
    expect(error.message).not.toContain(cvc);
  });

  test('structure errors name the full param', () => {
    const missing = caught(() => card.validate({ number: '4242424242424242', exp_month: 1, exp_year: 2030 } as CardDetails, ctx));
    expect([missing.code, missing.param]).toEqual(['parameter_missing', 'payment_method.card.cvc']);
    const unknown = caught(() => card.validate({ ...details(), pin: '0000' } as CardDetails, ctx));
    expect([unknown.code, unknown.param]).toEqual(['parameter_unknown', 'payment_method.card.pin']);
    const month = caught(() => card.validate(details({ exp_month: 13 }), ctx));
    expect([month.code, month.param]).toEqual(['parameter_invalid', 'payment_method.card.exp_month']);
    const text = caught(() => card.validate(details({ exp_month: '12' as unknown as number }), ctx));
    expect([text.code, text.param]).toEqual(['parameter_invalid', 'payment_method.card.exp_month']);
  });
});

describe('card redaction', () => {
  test('keeps brand, last4 and expiry, adds a keyed fingerprint, drops number and CVC', () => {
    const view = card.redact(details({ holder_name: 'Jane Doe' }), { fingerprintKey: FINGERPRINT_KEY });
    expect(Value.Check(CardPublic, view)).toBe(true);
    expect(view).toMatchObject({ brand: 'visa', last4: '4242', exp_month: 12, exp_year: 2030 });
    expect(JSON.stringify(view)).not.toContain('4242424242424242');
    expect(JSON.stringify(view)).not.toContain('"123"');
    expect(Object.keys(view).sort()).toEqual(['brand', 'exp_month', 'exp_year', 'fingerprint', 'last4']);
  });

  test('the same card gives the same fingerprint; another card or another key does not', () => {
    const key = { fingerprintKey: FINGERPRINT_KEY };
    const first = card.redact(details(), key).fingerprint;
    expect(card.redact(details({ exp_year: 2031, cvc: '999' }), key).fingerprint).toBe(first);
    expect(card.redact(details({ number: '4000000000000002' }), key).fingerprint).not.toBe(first);
    expect(card.redact(details(), { fingerprintKey: 'another-key-of-enough-length!!' }).fingerprint).not.toBe(first);
  });

  test('refuses a fingerprint key too short to resist enumeration', () => {
    expect(() => card.redact(details(), { fingerprintKey: 'short' })).toThrow(/at least 16 bytes/);
  });
});
