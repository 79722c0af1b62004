import { Type, type Static } from '@sinclair/typebox';

/**
 * The debtor's mandate (SEPA Direct Debit rulebook, AT-01 and AT-25). The SEPA character
 * set and slash rules of the reference and the "not in the future" rule of the date are
 * checked by `validate` (index.ts), which can say which rule was broken.
 */
export const SepaDebitMandate = Type.Object(
  {
    reference: Type.String({
      minLength: 1,
      maxLength: 35,
      description:
        "The creditor's unique mandate reference (AT-01): 1..35 characters of the SEPA set (a-z A-Z 0-9 / - ? : ( ) . , ' + and space); it must not start or end with a space or a slash and must not contain '//'.",
    }),
    signed_at: Type.String({
      pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
      description: 'The date the debtor signed the mandate (AT-25), YYYY-MM-DD; not in the future.',
    }),
  },
  { additionalProperties: false },
);
export type SepaDebitMandate = Static<typeof SepaDebitMandate>;

/**
 * `payment_method.sepa_debit` in a request. `iban` is loose here (printed IBANs come in
 * groups of four, any case): length, mod-97 and the SEPA zone are checked by `validate`,
 * which reports `iban_invalid`.
 */
export const SepaDebitDetails = Type.Object(
  {
    iban: Type.String({ minLength: 1, maxLength: 64, description: "The debtor's IBAN; never stored, returned or logged." }),
    // 70: the debtor name's limit in the EPC SDD implementation guidelines (AT-14).
    account_holder_name: Type.String({ minLength: 1, maxLength: 70 }),
    mandate: SepaDebitMandate,
  },
  { additionalProperties: false },
);
export type SepaDebitDetails = Static<typeof SepaDebitDetails>;

/** `payment_method.sepa_debit` as stored with a payment and returned by the API: no full IBAN. */
export const SepaDebitPublic = Type.Object(
  {
    scheme: Type.Literal('sepa'),
    last4: Type.String({ pattern: '^[A-Z0-9]{4}$' }),
    country: Type.String({ pattern: '^[A-Z]{2}$' }),
    bank_code: Type.Optional(Type.String()),
    fingerprint: Type.String({ description: 'Same account, same value within one deployment (also across bank_transfer SEPA); not reversible.' }),
    mandate_reference: Type.String(),
  },
  { additionalProperties: false },
);
export type SepaDebitPublic = Static<typeof SepaDebitPublic>;
