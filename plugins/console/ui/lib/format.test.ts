import { describe, expect, test } from 'bun:test';
import { methodLabel, money, redactCards, time } from './format';
import { href, parseHash } from './router';

describe('console display helpers', () => {
  test('card data is reduced to brand and last4 wherever it sits', () => {
    const payment = {
      id: 'pay_1',
      payment_method: { type: 'card', card: { brand: 'visa', last4: '4242', exp_month: 12, exp_year: 2030, fingerprint: 'fp_secretish' } },
      events: [{ data: { object: { payment_method: { type: 'card', card: { brand: 'amex', last4: '0005', exp_month: 1, exp_year: 2031 } } } } }],
    };
    const text = JSON.stringify(redactCards(payment));
    expect(text).toContain('"card":{"brand":"visa","last4":"4242"}');
    expect(text).toContain('"card":{"brand":"amex","last4":"0005"}');
    expect(text).not.toMatch(/exp_|fingerprint/);
  });

  test('methods, money and times as support reads them', () => {
    expect(methodLabel({ type: 'card', card: { brand: 'visa', last4: '4242' } })).toBe('VISA •••• 4242');
    expect(methodLabel({ type: 'bank_transfer', bank_transfer: { scheme: 'sepa', last4: '3000' } })).toBe('SEPA •••• 3000');
    expect(money(1050, 'EUR')).toBe('€10.50');
    expect(money(1050, 'JPY')).toBe('¥1,050');
    expect(time('2026-11-30T05:17:34.123Z')).toBe('2026-11-30 05:17:34 UTC');
  });

  test('hash routes round-trip their filters', () => {
    const route = parseHash(href('/payments', { status: 'failed', q: 'order_id=A 1', tenant: undefined }));
    expect(route).toEqual({ path: '/payments', segments: ['payments'], query: { status: 'failed', q: 'order_id=A 1' } });
    expect(parseHash('').path).toBe('/payments');
    expect(parseHash('#/payments/pay_1?tenant=ten_1').segments).toEqual(['payments', 'pay_1']);
  });
});
