/**
 * Banking days. A SEPA collection date must be a TARGET2 day (the ECB's settlement
 * calendar); an ACH effective entry date must be a day the Federal Reserve settles. Dates
 * are `YYYY-MM-DD` strings in UTC, cut-off times are UTC too (README.md), so no time zone
 * database is involved.
 */

export type BankCalendar = 'target2' | 'fedach';

const DAY_MS = 86_400_000;

export function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function fromIso(date: string): Date {
  return new Date(`${date}T00:00:00.000Z`);
}

function shift(date: string, days: number): string {
  return isoDate(new Date(fromIso(date).getTime() + days * DAY_MS));
}

/** Easter Sunday (anonymous Gregorian algorithm), for Good Friday and Easter Monday. */
function easter(year: number): string {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** The n-th (1-based; -1 = last) given weekday (0 = Sunday) of a month. */
function nthWeekday(year: number, month: number, weekday: number, n: number): string {
  if (n > 0) {
    const first = new Date(Date.UTC(year, month - 1, 1));
    const offset = (weekday - first.getUTCDay() + 7) % 7;
    return isoDate(new Date(Date.UTC(year, month - 1, 1 + offset + (n - 1) * 7)));
  }
  const last = new Date(Date.UTC(year, month, 0));
  const offset = (last.getUTCDay() - weekday + 7) % 7;
  return isoDate(new Date(Date.UTC(year, month, -offset)));
}

/** TARGET2 closing days besides weekends: New Year, Good Friday, Easter Monday, 1 May, 25 and 26 December. */
function target2Holidays(year: number): Set<string> {
  const sunday = easter(year);
  const fixed = ['01-01', '05-01', '12-25', '12-26'].map((day) => `${year}-${day}`);
  return new Set([...fixed, shift(sunday, -2), shift(sunday, 1)]);
}

/**
 * Federal Reserve holidays. One on a Sunday is observed the Monday after; one on a
 * Saturday is not moved (the Fed is open the Friday before), which is the Fed's rule and
 * not the federal government's.
 */
function fedHolidays(year: number): Set<string> {
  const fixed = ['01-01', '06-19', '07-04', '11-11', '12-25'].map((day) => {
    const date = `${year}-${day}`;
    return fromIso(date).getUTCDay() === 0 ? shift(date, 1) : date;
  });
  return new Set([
    ...fixed,
    nthWeekday(year, 1, 1, 3), // Martin Luther King Jr. Day
    nthWeekday(year, 2, 1, 3), // Washington's Birthday
    nthWeekday(year, 5, 1, -1), // Memorial Day
    nthWeekday(year, 9, 1, 1), // Labor Day
    nthWeekday(year, 10, 1, 2), // Columbus Day
    nthWeekday(year, 11, 4, 4), // Thanksgiving Day
  ]);
}

const cache = new Map<string, Set<string>>();

function holidays(calendar: BankCalendar, year: number): Set<string> {
  const key = `${calendar}:${year}`;
  let days = cache.get(key);
  if (!days) {
    days = calendar === 'target2' ? target2Holidays(year) : fedHolidays(year);
    cache.set(key, days);
  }
  return days;
}

export function isBankingDay(calendar: BankCalendar, date: string): boolean {
  const weekday = fromIso(date).getUTCDay();
  if (weekday === 0 || weekday === 6) return false;
  return !holidays(calendar, Number(date.slice(0, 4))).has(date);
}

/** The first banking day at or after `date`. */
export function nextBankingDay(calendar: BankCalendar, date: string): string {
  let day = date;
  while (!isBankingDay(calendar, day)) day = shift(day, 1);
  return day;
}

/** `days` banking days after `date` (which need not be one itself). */
export function addBankingDays(calendar: BankCalendar, date: string, days: number): string {
  let day = date;
  for (let left = days; left > 0; left--) day = nextBankingDay(calendar, shift(day, 1));
  return days === 0 ? nextBankingDay(calendar, day) : day;
}
