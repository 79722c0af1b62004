/**
 * The currencies API.md supports, with their ISO 4217 minor-unit exponent. Zero-decimal
 * currencies (JPY, KRW) take whole units; every amount is an integer either way.
 */
export const CURRENCY_EXPONENTS = {
  USD: 2,
  EUR: 2,
  GBP: 2,
  CHF: 2,
  SEK: 2,
  NOK: 2,
  DKK: 2,
  PLN: 2,
  CZK: 2,
  HUF: 2,
  CAD: 2,
  AUD: 2,
  NZD: 2,
  JPY: 0,
  KRW: 0,
} as const;

export type SupportedCurrency = keyof typeof CURRENCY_EXPONENTS;
export const SUPPORTED_CURRENCIES = Object.keys(CURRENCY_EXPONENTS) as SupportedCurrency[];
export const MAX_AMOUNT = 99_999_999;

export function isSupportedCurrency(value: string): value is SupportedCurrency {
  return Object.hasOwn(CURRENCY_EXPONENTS, value);
}
