/**
 * Return reasons as they reach `failure.code`: the bank's own code, unchanged (API.md:
 * `AC04`, `R01`), with a message for people. SEPA codes are ISO 20022's
 * ExternalReturnReason1Code as the EPC rulebooks use them; ACH codes are Nacha's.
 */

const SEPA_REASONS: Record<string, string> = {
  AC01: 'The account identifier is incorrect.',
  AC04: 'The account is closed.',
  AC06: 'The account is blocked.',
  AC13: 'The debtor account is a consumer account that cannot be debited this way.',
  AG01: 'Direct debits are not allowed on this account.',
  AG02: 'The bank operation code is invalid.',
  AM04: 'Insufficient funds.',
  AM05: 'Duplicate collection.',
  BE05: 'The creditor is not recognised.',
  CNOR: 'The creditor bank is not registered for this scheme.',
  DNOR: 'The debtor bank is not registered for this scheme.',
  FF01: 'The file or transaction format is invalid.',
  MD01: 'No valid mandate, or the debtor says the debit was not authorised.',
  MD02: 'Mandate data is missing or incorrect.',
  MD06: 'The debtor asked their bank for a refund.',
  MD07: 'The debtor is deceased.',
  MS02: 'Refused by the debtor, no reason given.',
  MS03: 'Refused by the debtor bank, no reason given.',
  RC01: 'The bank identifier is incorrect.',
  RR01: 'Regulatory reason: debtor account or identification missing.',
  RR02: 'Regulatory reason: debtor name or address missing.',
  RR03: 'Regulatory reason: creditor name or address missing.',
  RR04: 'Regulatory reason.',
  SL01: 'Refused by a service of the debtor bank.',
  FOCR: 'Returned after a cancellation request.',
  CUST: 'Requested by the customer.',
  DUPL: 'Duplicate payment.',
  TECH: 'Technical problem at the bank.',
  FRAD: 'Fraudulent origin.',
};

const ACH_REASONS: Record<string, string> = {
  R01: 'Insufficient funds.',
  R02: 'The account is closed.',
  R03: 'No account, or the account cannot be located.',
  R04: 'The account number is invalid.',
  R05: 'Unauthorised debit to a consumer account using a corporate entry class.',
  R06: 'Returned at the originating bank\'s request.',
  R07: 'The customer revoked the authorisation.',
  R08: 'Payment stopped.',
  R09: 'Uncollected funds.',
  R10: 'The customer says the debit was not authorised.',
  R11: 'The customer says the debit does not match the authorisation.',
  R12: 'The account was sold to another bank.',
  R13: 'The routing number is invalid.',
  R14: 'The representative payee is deceased.',
  R15: 'The account holder is deceased.',
  R16: 'The account is frozen.',
  R17: 'The entry failed the receiving bank\'s checks.',
  R20: 'The account does not allow this transaction.',
  R23: 'The receiver refused the credit.',
  R24: 'Duplicate entry.',
  R29: 'The business customer says the debit was not authorised.',
  R31: 'Returned with the originator\'s agreement.',
};

/** A code a bank may plausibly send: ISO's four characters or Nacha's R + two digits. */
export function isReturnCode(code: string): boolean {
  return /^[A-Z0-9]{4}$/.test(code) || /^R[0-9]{2}$/.test(code);
}

export function returnMessage(code: string): string {
  return SEPA_REASONS[code] ?? ACH_REASONS[code] ?? `Returned by the bank (reason ${code}).`;
}
