import { invalidRequest, parameterInvalid } from '../../../runtime/errors.ts';
import { definePaymentMethod, keyedFingerprint } from '../../../runtime/registry/index.ts';
import { brandRule, luhnValid } from './brand.ts';
import { CardDetails, CardPublic, type CardBrand } from './model.ts';

export { CardBrand, CardDetails, CardPublic } from './model.ts';
export { brandRule, luhnValid } from './brand.ts';

declare module '../../../runtime/registry/payment-method.ts' {
  interface PaymentMethodDetails {
    card: CardDetails;
  }
}

const NUMBER_PARAM = 'payment_method.card.number';

function invalidNumber(): never {
  throw invalidRequest('card_number_invalid', 'Your card number is invalid.', NUMBER_PARAM);
}

/** Checks digits, Luhn, IIN brand and the brand's lengths; returns the brand. */
export function cardBrandOf(number: string): CardBrand {
  if (!/^[0-9]{12,19}$/.test(number) || !luhnValid(number)) invalidNumber();
  const rule = brandRule(number);
  if (!rule || !rule.lengths.includes(number.length)) invalidNumber();
  return rule.brand;
}

/** A card is valid through the last day of its expiry month (UTC). */
function assertNotExpired(expMonth: number, expYear: number, now: Date): void {
  const year = now.getUTCFullYear();
  if (expYear < 1000 || expYear > year + 50) {
    throw parameterInvalid('payment_method.card.exp_year', 'The expiry year must be a four-digit year.');
  }
  const month = now.getUTCMonth() + 1;
  if (expYear < year || (expYear === year && expMonth < month)) {
    throw invalidRequest('card_expired', 'Your card has expired.', 'payment_method.card.exp_month');
  }
}

/**
 * The `card` payment method: Luhn + brand by IIN, expiry not past, CVC length by brand.
 * Any currency: which currencies a card may be charged in is a processor's business.
 */
export const card = definePaymentMethod({
  type: 'card',
  schema: CardDetails,
  publicSchema: CardPublic,
  validate(details, { now }) {
    const brand = cardBrandOf(details.number);
    assertNotExpired(details.exp_month, details.exp_year, now);
    const cvcLength = brandRule(details.number)?.cvcLength ?? 3;
    if (!new RegExp(`^[0-9]{${cvcLength}}$`).test(details.cvc)) {
      const expected = brand === 'amex' ? '4 digits for American Express' : '3 digits';
      throw parameterInvalid('payment_method.card.cvc', `Your card's security code is invalid (${expected}).`);
    }
  },
  redact(details, { fingerprintKey }) {
    return {
      brand: cardBrandOf(details.number),
      last4: details.number.slice(-4),
      exp_month: details.exp_month,
      exp_year: details.exp_year,
      // Only the number: a renewed card (new expiry) is still the same card.
      fingerprint: keyedFingerprint(fingerprintKey, 'card', details.number),
    };
  },
});
