/**
 * ABA routing number: 9 digits whose weighted sum (3, 7, 1 repeating) is a multiple
 * of 10. Catches every single-digit typo and most transpositions.
 */
export function abaRoutingValid(routing: string): boolean {
  if (!/^[0-9]{9}$/.test(routing)) return false;
  const weights = [3, 7, 1, 3, 7, 1, 3, 7, 1];
  const sum = weights.reduce((total, weight, index) => total + weight * Number(routing[index]), 0);
  return sum % 10 === 0;
}

/** US account numbers are 4 to 17 digits (NACHA field 6 is 17 characters). */
export function achAccountNumberValid(accountNumber: string): boolean {
  return /^[0-9]{4,17}$/.test(accountNumber);
}
