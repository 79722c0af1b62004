import { invalidRequest, parameterInvalid } from '../../../runtime/errors.ts';
import { assertNever } from '../../../runtime/assert-never.ts';
import { definePaymentMethod, keyedFingerprint, type RedactionContext, type ValidationContext } from '../../../runtime/registry/index.ts';
import { abaRoutingValid, achAccountNumberValid } from './aba.ts';
import { ibanBankCode, ibanProblem, normalizeIban, type IbanProblem } from './iban.ts';
import {
  BankTransferDetails,
  BankTransferPublic,
  type AchDetails,
  type AchPublic,
  type SepaDetails,
  type SepaPublic,
} from './model.ts';

export * from './model.ts';
export { normalizeIban, ibanChecksumValid, ibanProblem } from './iban.ts';
export { abaRoutingValid, achAccountNumberValid } from './aba.ts';

declare module '../../../runtime/registry/payment-method.ts' {
  interface PaymentMethodDetails {
    bank_transfer: BankTransferDetails;
  }
}

const PREFIX = 'payment_method.bank_transfer';

const IBAN_MESSAGES: Record<IbanProblem, string> = {
  format: 'The IBAN is not well formed.',
  country: 'The IBAN country code is unknown.',
  length: 'The IBAN has the wrong length for its country.',
  checksum: 'The IBAN check digits are wrong.',
  not_sepa: 'The IBAN belongs to a country outside the SEPA zone.',
};

/** 4 letters bank, 2 letters country, 2 location, optional 3 branch (ISO 9362). */
const BIC_PATTERN = /^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/;

function requireCurrency(scheme: string, required: string, currency: string): void {
  if (currency !== required) {
    throw invalidRequest(
      'currency_unsupported',
      `${scheme} bank transfers are only available in ${required}.`,
      'currency',
    );
  }
}

function validateSepa(details: SepaDetails, { currency }: ValidationContext): void {
  requireCurrency('SEPA', 'EUR', currency);
  const problem = ibanProblem(normalizeIban(details.iban));
  if (problem) throw invalidRequest('iban_invalid', IBAN_MESSAGES[problem], `${PREFIX}.iban`);
  if (details.bic !== undefined && !BIC_PATTERN.test(details.bic.toUpperCase())) {
    throw parameterInvalid(`${PREFIX}.bic`, 'The BIC must be 8 or 11 characters (ISO 9362).');
  }
}

function validateAch(details: AchDetails, { currency }: ValidationContext): void {
  requireCurrency('ACH', 'USD', currency);
  if (!abaRoutingValid(details.routing_number)) {
    throw invalidRequest('routing_number_invalid', 'The routing number is invalid.', `${PREFIX}.routing_number`);
  }
  if (!achAccountNumberValid(details.account_number)) {
    throw parameterInvalid(`${PREFIX}.account_number`, 'The account number must be 4 to 17 digits.');
  }
}

function redactSepa(details: SepaDetails, fingerprintKey: RedactionContext['fingerprintKey']): SepaPublic {
  const iban = normalizeIban(details.iban);
  const bankCode = ibanBankCode(iban);
  return {
    scheme: 'sepa',
    last4: iban.slice(-4),
    country: iban.slice(0, 2),
    ...(bankCode === undefined ? {} : { bank_code: bankCode }),
    fingerprint: keyedFingerprint(fingerprintKey, 'sepa', iban),
  };
}

function redactAch(details: AchDetails, fingerprintKey: RedactionContext['fingerprintKey']): AchPublic {
  return {
    scheme: 'ach',
    last4: details.account_number.slice(-4),
    country: 'US',
    bank_code: details.routing_number,
    account_type: details.account_type,
    // Routing + account: the same account number at two banks is two accounts.
    fingerprint: keyedFingerprint(fingerprintKey, 'ach', `${details.routing_number}:${details.account_number}`),
  };
}

/**
 * The `bank_transfer` payment method: SEPA (EUR only; IBAN length + mod-97, BIC shape)
 * and ACH (USD only; ABA checksum, 4-17 digit account).
 */
export const bankTransfer = definePaymentMethod({
  type: 'bank_transfer',
  schema: BankTransferDetails,
  publicSchema: BankTransferPublic,
  validate(details, ctx) {
    switch (details.scheme) {
      case 'sepa':
        return validateSepa(details, ctx);
      case 'ach':
        return validateAch(details, ctx);
      default:
        return assertNever(details, 'bank transfer scheme');
    }
  },
  redact(details, { fingerprintKey }) {
    switch (details.scheme) {
      case 'sepa':
        return redactSepa(details, fingerprintKey);
      case 'ach':
        return redactAch(details, fingerprintKey);
      default:
        return assertNever(details, 'bank transfer scheme');
    }
  },
});
