import { assertNever } from './assert-never.ts';
import { bankTransfer } from './bank-transfer/index.ts';
import { card } from './card/index.ts';
import type { RedactionContext, ValidationContext } from './define.ts';
import { PaymentMethodRequest, type PaymentMethodPublic } from './model.ts';
import { assertStructure } from './structure.ts';

export * from './define.ts';
export * from './model.ts';
export { keyedFingerprint } from './fingerprint.ts';
export { assertStructure, paramPath } from './structure.ts';
export { card, cardBrandOf, CardBrand, CardDetails, CardPublic } from './card/index.ts';
export {
  bankTransfer,
  BankTransferDetails,
  BankTransferPublic,
  SepaDetails,
  AchDetails,
  normalizeIban,
} from './bank-transfer/index.ts';

/** The built-in payment methods, in the order the default registry registers them. */
export const builtinPaymentMethods = [card, bankTransfer] as const;

/**
 * Structure + semantics of a whole `payment_method` object in one call, for callers that
 * did not validate the body against {@link PaymentMethodRequest} already. Throws the
 * API.md 400 (`param` always the full path, e.g. `payment_method.type`).
 */
export function validatePaymentMethod(value: unknown, ctx: ValidationContext): asserts value is PaymentMethodRequest {
  assertStructure(PaymentMethodRequest, value, 'payment_method');
  const method = value as PaymentMethodRequest;
  switch (method.type) {
    case 'card':
      return card.validate(method.card, ctx);
    case 'bank_transfer':
      return bankTransfer.validate(method.bank_transfer, ctx);
    default:
      return assertNever(method, 'payment method type');
  }
}

/** The public view of a validated `payment_method`, as stored with the payment. */
export function redactPaymentMethod(method: PaymentMethodRequest, ctx: RedactionContext): PaymentMethodPublic {
  switch (method.type) {
    case 'card':
      return { type: 'card', card: card.redact(method.card, ctx) };
    case 'bank_transfer':
      return { type: 'bank_transfer', bank_transfer: bankTransfer.redact(method.bank_transfer, ctx) };
    default:
      return assertNever(method, 'payment method type');
  }
}

