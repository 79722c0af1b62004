import { parameterInvalid } from '../../../runtime/errors.ts';
import { definePaymentMethod, keyedFingerprint } from '../../../runtime/registry/index.ts';
import { CardTokenDetails, CardTokenPublic } from './model.ts';

export { CardTokenDetails, CardTokenPublic } from './model.ts';

declare module '../../../runtime/registry/payment-method.ts' {
  interface PaymentMethodDetails {
    card_token: CardTokenDetails;
  }
}

/** Processor ids are plain ASCII (`pm_1Nv...`, `pm_card_visa`); anything else is a mistake, not a token. */
const TOKEN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{2,254}$/;

/**
 * The `card_token` payment method: a card tokenised at the processor (the `processor_token`
 * variant of a card). A separate type rather than an optional field of `card`, so the card
 * contract (number, expiry and CVC required, brand and last4 in the response) stays exactly
 * as it is, and routing only sends tokens to processors that declare they take them.
 */
export const cardToken = definePaymentMethod({
  type: 'card_token',
  schema: CardTokenDetails,
  publicSchema: CardTokenPublic,
  validate(details) {
    if (!TOKEN.test(details.token)) {
      throw parameterInvalid('payment_method.card_token.token', 'The card token is not a processor token (letters, digits and _ . : - only).');
    }
  },
  redact(details, { fingerprintKey }) {
    return { fingerprint: keyedFingerprint(fingerprintKey, 'card_token', details.token) };
  },
});
