import { invalidRequest, parameterInvalid } from '../../../runtime/errors.ts';
import { definePaymentMethod, keyedFingerprint } from '../../../runtime/registry/index.ts';
import { ibanBankCode, ibanProblem, normalizeIban, type IbanProblem } from '../bank-transfer/iban.ts';
import { SepaDebitDetails, SepaDebitPublic } from './model.ts';

export { SepaDebitDetails, SepaDebitMandate, SepaDebitPublic } from './model.ts';

declare module '../../../runtime/registry/payment-method.ts' {
  interface PaymentMethodDetails {
    sepa_debit: SepaDebitDetails;
  }
}

const PREFIX = 'payment_method.sepa_debit';

const IBAN_MESSAGES: Record<IbanProblem, string> = {
  format: 'The IBAN is not well formed.',
  country: 'The IBAN country code is unknown.',
  length: 'The IBAN has the wrong length for its country.',
  checksum: 'The IBAN check digits are wrong.',
  not_sepa: 'The IBAN belongs to a country outside the SEPA zone.',
};

/**
 * The mandate reference rules we apply (EPC SDD rulebook AT-01 and the EPC's rules for
 * "references, identifications and identifiers", EPC217-08 and its clarification paper
 * on slashes):
 * - 1..35 characters (the schema), all from the basic SEPA (Latin) set: a-z A-Z 0-9,
 *   `/ - ? : ( ) . , ' +` and space. No umlauts, `&`, `_` or other characters that
 *   banks may transliterate or reject, since a reference must reach the debtor's bank
 *   unchanged to match the mandate.
 * - no leading or trailing space (banks trim them, and the trimmed reference would no
 *   longer be the one the debtor signed);
 * - no leading or trailing `/` and no `//` anywhere. The EPC rule forbids a slash at
 *   either end, so we refuse a trailing one too, not only a leading one.
 */
const SEPA_CHARACTERS = /^[A-Za-z0-9/\-?:().,'+ ]*$/;

function assertMandateReference(reference: string): void {
  const param = `${PREFIX}.mandate.reference`;
  if (!SEPA_CHARACTERS.test(reference)) {
    throw parameterInvalid(param, "The mandate reference may only use a-z, A-Z, 0-9, space and / - ? : ( ) . , ' +.");
  }
  if (reference.startsWith(' ') || reference.endsWith(' ')) {
    throw parameterInvalid(param, 'The mandate reference must not start or end with a space.');
  }
  if (reference.startsWith('/') || reference.endsWith('/') || reference.includes('//')) {
    throw parameterInvalid(param, "The mandate reference must not start or end with '/' or contain '//'.");
  }
}

/**
 * The debtor signs in local time. The SEPA zone's clocks run up to UTC+4 (Réunion, a
 * French outermost region inside the SEPA scope), so a mandate signed just after local
 * midnight there (or in Berlin) already carries a date that is "tomorrow" in UTC. A date
 * is in the future only when no SEPA-zone clock has reached it yet: after the calendar
 * date of `now` + 4 hours. Anything further ahead is refused.
 */
const EASTERNMOST_SEPA_OFFSET_MS = 4 * 60 * 60 * 1000;

/** `2026-02-30` matches the schema's pattern but is no date. */
function isCalendarDate(value: string): boolean {
  const date = new Date(`${value}T00:00:00.000Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

function assertSignedAt(signedAt: string, now: Date): void {
  const param = `${PREFIX}.mandate.signed_at`;
  if (!isCalendarDate(signedAt)) throw parameterInvalid(param, 'The mandate signature date must be a calendar date (YYYY-MM-DD).');
  const latestToday = new Date(now.getTime() + EASTERNMOST_SEPA_OFFSET_MS).toISOString().slice(0, 10);
  // Same fixed-width YYYY-MM-DD form on both sides, so string order is date order.
  if (signedAt > latestToday) throw parameterInvalid(param, 'The mandate signature date must not be in the future.');
}

/**
 * The `sepa_debit` payment method: SEPA Direct Debit (Core) with the debtor's mandate.
 * EUR only; IBAN length + mod-97 + SEPA zone (the bank-transfer helpers); the mandate
 * reference in the SEPA character set; the signature date not in the future. Like a
 * bank transfer it settles or is returned asynchronously (the processor's business).
 */
export const sepaDebit = definePaymentMethod({
  type: 'sepa_debit',
  schema: SepaDebitDetails,
  publicSchema: SepaDebitPublic,
  validate(details, { currency, now }) {
    if (currency !== 'EUR') {
      throw invalidRequest('currency_unsupported', 'SEPA Direct Debit is only available in EUR.', 'currency');
    }
    const problem = ibanProblem(normalizeIban(details.iban));
    if (problem) throw invalidRequest('iban_invalid', IBAN_MESSAGES[problem], `${PREFIX}.iban`);
    assertMandateReference(details.mandate.reference);
    assertSignedAt(details.mandate.signed_at, now);
  },
  redact(details, { fingerprintKey }) {
    const iban = normalizeIban(details.iban);
    const bankCode = ibanBankCode(iban);
    return {
      scheme: 'sepa' as const,
      last4: iban.slice(-4),
      country: iban.slice(0, 2),
      ...(bankCode === undefined ? {} : { bank_code: bankCode }),
      // The 'sepa' domain of bank_transfer: one account has one fingerprint, whether it
      // pays by transfer or is debited, so integrators can match the two.
      fingerprint: keyedFingerprint(fingerprintKey, 'sepa', iban),
      mandate_reference: details.mandate.reference,
    };
  },
});
