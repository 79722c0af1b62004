import { Type, type Static } from '@sinclair/typebox';

/**
 * `payment_method.card_token` in a request: a card the integrator already tokenised at the
 * processor (for Stripe, a PaymentMethod id `pm_...` created by Stripe.js or the mobile
 * SDKs), so the card number and CVC never reach NimbusPay at all.
 */
export const CardTokenDetails = Type.Object(
  {
    token: Type.String({
      minLength: 3,
      maxLength: 255,
      description:
        'The processor\'s id of the tokenised card, e.g. a Stripe PaymentMethod `pm_...`. It is handed to the processor once and ' +
        'never stored in plain text, returned, logged or sent in webhooks. Route the payment to the processor that issued it ' +
        '(`processor` field, or routing rules).',
    }),
  },
  {
    additionalProperties: false,
    description:
      'A card tokenised at the processor, instead of card numbers: `{ "type": "card_token", "card_token": { "token": "pm_..." } }`. ' +
      'Offered when a processor that takes tokens is configured (Stripe). The payment shows only a fingerprint of the token; brand ' +
      'and last4 stay at the processor. A card that asks for 3-D Secure fails with `failure.code` `card_declined` and ' +
      '`decline_code` `authentication_required` (as Stripe names it) until NimbusPay supports authentication flows.',
  },
);
export type CardTokenDetails = Static<typeof CardTokenDetails>;

/** `payment_method.card_token` as stored with a payment and returned by the API. */
export const CardTokenPublic = Type.Object(
  {
    fingerprint: Type.String({ description: 'Same token, same value within one deployment; not reversible. The token itself is never returned.' }),
  },
  { additionalProperties: false },
);
export type CardTokenPublic = Static<typeof CardTokenPublic>;
