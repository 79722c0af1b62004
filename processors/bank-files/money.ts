/**
 * Amounts in bank files are decimal text; NimbusPay's are integer minor units. Both
 * directions are string arithmetic on integers, never floats, so 0.1 + 0.2 cannot happen
 * and a file's control sum is the exact sum of its entries.
 */

/** Minor units as the decimal text of a file: `formatMinor(2050, 2)` is `"20.50"`. */
export function formatMinor(amount: number, exponent = 2): string {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new RangeError('An amount must be a non-negative safe integer of minor units.');
  if (exponent === 0) return String(amount);
  const digits = String(amount).padStart(exponent + 1, '0');
  return `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

/**
 * Decimal text from a bank file back to minor units: `"20.5"` and `"20.50"` are 2050.
 * Refuses signs, exponents, and digits below the currency's minor unit (`"0.001"`),
 * rather than rounding money that a bank reported.
 */
export function parseDecimal(text: string, exponent = 2): number {
  const match = /^([0-9]+)(?:\.([0-9]*))?$/.exec(text.trim());
  if (!match) throw new RangeError(`Not a decimal amount: '${text.slice(0, 20)}'.`);
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  if (fraction.length > exponent) throw new RangeError(`The amount '${text.slice(0, 20)}' has more decimals than the currency.`);
  const value = Number(match[1]) * 10 ** exponent + Number(fraction.padEnd(exponent, '0') || '0');
  if (!Number.isSafeInteger(value)) throw new RangeError('The amount is too large.');
  return value;
}

/** Sum of minor units, checked: a file total must never lose precision. */
export function sumMinor(amounts: readonly number[]): number {
  const total = amounts.reduce((sum, amount) => sum + amount, 0);
  if (!Number.isSafeInteger(total)) throw new RangeError('The total is too large.');
  return total;
}
