/**
 * IBAN lengths by country (SWIFT IBAN registry). A wrong length is the commonest typo
 * that mod-97 alone would still catch, but checking it first gives a clearer message.
 */
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29,
  BY: 28, CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29,
  ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28,
  HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28,
  LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20,
  MR: 27, MT: 31, MU: 30, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25,
  QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27,
  SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

/** Countries whose banks take part in the SEPA schemes; other IBANs cannot be debited by SEPA. */
const SEPA_COUNTRIES = new Set([
  'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV',
  'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE', 'IS', 'LI', 'NO', 'CH', 'GB',
  'MC', 'SM', 'VA', 'AD', 'GI', 'AL', 'MD', 'ME', 'MK',
]);

/** Where the national bank code sits in the BBAN, for the countries we show it for. */
const BANK_CODE_POSITION: Readonly<Record<string, readonly [number, number]>> = {
  AT: [0, 5], BE: [0, 3], CH: [0, 5], DE: [0, 8], ES: [0, 4], FR: [0, 5], GB: [0, 4],
  IE: [0, 4], IT: [1, 6], LU: [0, 3], NL: [0, 4], PT: [0, 4],
};

/** Printed IBANs come in groups of four and any case; the canonical form has neither. */
export function normalizeIban(iban: string): string {
  return iban.replace(/ /g, '').toUpperCase();
}

/** ISO 7064 mod 97-10, computed piecewise so no big integers are needed. */
export function ibanChecksumValid(iban: string): boolean {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const char of rearranged) {
    const value = Number.parseInt(char, 36);
    remainder = Number(`${remainder}${value}`) % 97;
  }
  return remainder === 1;
}

export type IbanProblem = 'format' | 'country' | 'length' | 'checksum' | 'not_sepa';

/** Checks an already normalised IBAN; undefined when valid. */
export function ibanProblem(iban: string): IbanProblem | undefined {
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/.test(iban)) return 'format';
  const expected = IBAN_LENGTHS[iban.slice(0, 2)];
  if (expected === undefined) return 'country';
  if (iban.length !== expected) return 'length';
  if (!ibanChecksumValid(iban)) return 'checksum';
  if (!SEPA_COUNTRIES.has(iban.slice(0, 2))) return 'not_sepa';
  return undefined;
}

/** The national bank code (e.g. the German BLZ), when we know where it sits. */
export function ibanBankCode(iban: string): string | undefined {
  const position = BANK_CODE_POSITION[iban.slice(0, 2)];
  return position ? iban.slice(4 + position[0], 4 + position[1]) : undefined;
}
