import { Type, type Static } from '@sinclair/typebox';

/**
 * `payment_method.card` in a request. Deliberately loose on `number` and `cvc`: their
 * semantic errors have dedicated API.md codes (`card_number_invalid`, `parameter_invalid`
 * on `cvc`) that `validate` reports, rather than a generic schema error.
 */
export const CardDetails = Type.Object(
  {
    number: Type.String({ minLength: 1, maxLength: 32, description: 'Card number (PAN), digits only.' }),
    exp_month: Type.Integer({ minimum: 1, maximum: 12 }),
    exp_year: Type.Integer({ minimum: 1, maximum: 9999, description: 'Four-digit year.' }),
    cvc: Type.String({ minLength: 1, maxLength: 8, description: '3 digits, 4 for American Express.' }),
    holder_name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type CardDetails = Static<typeof CardDetails>;

export const CardBrand = Type.Union([
  Type.Literal('visa'),
  Type.Literal('mastercard'),
  Type.Literal('amex'),
  Type.Literal('discover'),
  Type.Literal('jcb'),
  Type.Literal('diners'),
  Type.Literal('unionpay'),
]);
export type CardBrand = Static<typeof CardBrand>;

/** `payment_method.card` as stored with a payment and returned by the API. */
export const CardPublic = Type.Object(
  {
    brand: CardBrand,
    last4: Type.String({ pattern: '^[0-9]{4}$' }),
    exp_month: Type.Integer({ minimum: 1, maximum: 12 }),
    exp_year: Type.Integer(),
    fingerprint: Type.String({ description: 'Same card, same value within one deployment; not reversible.' }),
  },
  { additionalProperties: false },
);
export type CardPublic = Static<typeof CardPublic>;
