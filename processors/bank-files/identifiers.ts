/**
 * Checks of the deployer's own identifiers (creditor id, creditor IBAN, ACH routing
 * numbers), done once at start so a typo stops the deployment instead of a bank
 * rejecting tomorrow's file. The debtors' accounts were checked by their payment method
 * plugin before any connector saw them.
 */

export function normalizeIban(iban: string): string {
  return iban.replace(/\s+/g, '').toUpperCase();
}

/** ISO 7064 mod 97-10 over digits and letters (A = 10 ... Z = 35), in chunks: no BigInt needed. */
function mod97(text: string): number {
  const digits = [...text].map((char) => (/[A-Z]/.test(char) ? String(char.charCodeAt(0) - 55) : char)).join('');
  let remainder = 0;
  for (let i = 0; i < digits.length; i += 7) remainder = Number(`${remainder}${digits.slice(i, i + 7)}`) % 97;
  return remainder;
}

export function ibanValid(iban: string): boolean {
  const value = normalizeIban(iban);
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/.test(value)) return false;
  return mod97(value.slice(4) + value.slice(0, 4)) === 1;
}

/**
 * SEPA Creditor Identifier (EPC262-08): country, two check digits, a three-character
 * creditor business code that the check ignores, then the national identifier. The check
 * digits are mod 97-10 over national identifier + country + check digits.
 */
export function creditorIdValid(creditorId: string): boolean {
  const value = creditorId.toUpperCase();
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]{3}[A-Z0-9]{1,28}$/.test(value)) return false;
  return mod97(value.slice(7) + value.slice(0, 4)) === 1;
}

export const BIC_PATTERN = '^[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?$';

/** ABA routing number: 3-7-1 weighted digit sum is a multiple of 10. */
export function routingNumberValid(routing: string): boolean {
  if (!/^[0-9]{9}$/.test(routing)) return false;
  const weights = [3, 7, 1, 3, 7, 1, 3, 7, 1];
  return [...routing].reduce((sum, digit, index) => sum + Number(digit) * weights[index]!, 0) % 10 === 0;
}
