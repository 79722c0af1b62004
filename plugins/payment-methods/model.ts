import { Type, type Static } from '@sinclair/typebox';
import { BankTransferDetails, BankTransferPublic } from './bank-transfer/model.ts';
import { CardDetails, CardPublic } from './card/model.ts';

/**
 * `payment_method` in a payment request, discriminated on `type`. The HTTP layer checks
 * structure with this schema, then calls the method's `validate` for semantics.
 */
export const PaymentMethodRequest = Type.Union([
  Type.Object({ type: Type.Literal('card'), card: CardDetails }, { additionalProperties: false }),
  Type.Object(
    { type: Type.Literal('bank_transfer'), bank_transfer: BankTransferDetails },
    { additionalProperties: false },
  ),
]);
export type PaymentMethodRequest = Static<typeof PaymentMethodRequest>;

/** `payment_method` as stored with a payment and returned: no full number, CVC or account number. */
export const PaymentMethodPublic = Type.Union([
  Type.Object({ type: Type.Literal('card'), card: CardPublic }, { additionalProperties: false }),
  Type.Object(
    { type: Type.Literal('bank_transfer'), bank_transfer: BankTransferPublic },
    { additionalProperties: false },
  ),
]);
export type PaymentMethodPublic = Static<typeof PaymentMethodPublic>;
