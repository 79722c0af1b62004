import { Type, type Static } from '@sinclair/typebox';

const HolderName = Type.String({ minLength: 1, maxLength: 200 });

/**
 * SEPA details. `iban` is loose here (spaces allowed, as IBANs are printed in groups of
 * four): length and mod-97 are checked by `validate`, which reports `iban_invalid`.
 */
export const SepaDetails = Type.Object(
  {
    scheme: Type.Literal('sepa'),
    iban: Type.String({ minLength: 1, maxLength: 64 }),
    bic: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
    account_holder_name: HolderName,
  },
  { additionalProperties: false },
);
export type SepaDetails = Static<typeof SepaDetails>;

export const AchAccountType = Type.Union([Type.Literal('checking'), Type.Literal('savings')]);
export type AchAccountType = Static<typeof AchAccountType>;

/** ACH details; `routing_number` and `account_number` get their semantics from `validate`. */
export const AchDetails = Type.Object(
  {
    scheme: Type.Literal('ach'),
    routing_number: Type.String({ minLength: 1, maxLength: 16 }),
    account_number: Type.String({ minLength: 1, maxLength: 32 }),
    account_type: AchAccountType,
    account_holder_name: HolderName,
  },
  { additionalProperties: false },
);
export type AchDetails = Static<typeof AchDetails>;

/** `payment_method.bank_transfer` in a request, discriminated on `scheme`. */
export const BankTransferDetails = Type.Union([SepaDetails, AchDetails]);
export type BankTransferDetails = Static<typeof BankTransferDetails>;

const Last4 = Type.String({ pattern: '^[A-Z0-9]{4}$' });
const Fingerprint = Type.String({ description: 'Same account, same value within one deployment; not reversible.' });

export const SepaPublic = Type.Object(
  {
    scheme: Type.Literal('sepa'),
    last4: Last4,
    country: Type.String({ pattern: '^[A-Z]{2}$' }),
    bank_code: Type.Optional(Type.String()),
    fingerprint: Fingerprint,
  },
  { additionalProperties: false },
);
export type SepaPublic = Static<typeof SepaPublic>;

export const AchPublic = Type.Object(
  {
    scheme: Type.Literal('ach'),
    last4: Last4,
    country: Type.Literal('US'),
    /** The ABA routing number: public, printed on every cheque. */
    bank_code: Type.String({ pattern: '^[0-9]{9}$' }),
    account_type: AchAccountType,
    fingerprint: Fingerprint,
  },
  { additionalProperties: false },
);
export type AchPublic = Static<typeof AchPublic>;

/** `payment_method.bank_transfer` as stored with a payment and returned by the API. */
export const BankTransferPublic = Type.Union([SepaPublic, AchPublic]);
export type BankTransferPublic = Static<typeof BankTransferPublic>;
