import type { CardBrand } from './model.ts';

type BrandRule = {
  brand: CardBrand;
  /** Inclusive IIN ranges; both bounds have the same number of digits. */
  ranges: ReadonlyArray<readonly [number, number]>;
  lengths: readonly number[];
  cvcLength: 3 | 4;
};

const SIXTEEN_TO_NINETEEN = [16, 17, 18, 19] as const;

/**
 * IIN ranges as published by the networks. Order matters: the Discover range
 * 622126-622925 sits inside UnionPay's 62, so the narrower rule comes first.
 */
const BRAND_RULES: readonly BrandRule[] = [
  { brand: 'visa', ranges: [[4, 4]], lengths: [13, 16, 19], cvcLength: 3 },
  { brand: 'amex', ranges: [[34, 34], [37, 37]], lengths: [15], cvcLength: 4 },
  { brand: 'mastercard', ranges: [[51, 55], [2221, 2720]], lengths: [16], cvcLength: 3 },
  {
    brand: 'discover',
    ranges: [[6011, 6011], [644, 649], [65, 65], [622126, 622925]],
    lengths: SIXTEEN_TO_NINETEEN,
    cvcLength: 3,
  },
  { brand: 'jcb', ranges: [[3528, 3589]], lengths: SIXTEEN_TO_NINETEEN, cvcLength: 3 },
  { brand: 'diners', ranges: [[300, 305], [36, 36], [38, 39]], lengths: [14, 15, 16, 17, 18, 19], cvcLength: 3 },
  { brand: 'unionpay', ranges: [[62, 62]], lengths: SIXTEEN_TO_NINETEEN, cvcLength: 3 },
];

function inRange(digits: string, [low, high]: readonly [number, number]): boolean {
  const width = String(low).length;
  if (digits.length < width) return false;
  const prefix = Number(digits.slice(0, width));
  return prefix >= low && prefix <= high;
}

/** The brand whose IIN range the number falls into, or undefined. Length is not checked here. */
export function brandRule(digits: string): BrandRule | undefined {
  return BRAND_RULES.find((rule) => rule.ranges.some((range) => inRange(digits, range)));
}

/** Luhn (mod 10) check over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let index = 0; index < digits.length; index += 1) {
    let digit = Number(digits[digits.length - 1 - index]);
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}
