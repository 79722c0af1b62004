import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { addBankingDays, isBankingDay } from './calendar.ts';
import { isSepaText, toAchText, toSepaText } from './charset.ts';
import { creditorIdValid, ibanValid, routingNumberValid } from './identifiers.ts';
import { formatMinor, parseDecimal } from './money.ts';
import { latestCutoff } from './settings.ts';
import { el, parseXml, renderXml, textAt } from './xml.ts';

describe('money', () => {
  test('minor units and decimal text convert both ways exactly (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(0, 2), (amount, exponent) => {
        expect(parseDecimal(formatMinor(amount, exponent), exponent)).toBe(amount);
      }),
      { numRuns: 500 },
    );
    expect(formatMinor(1)).toBe('0.01');
    expect(formatMinor(2050)).toBe('20.50');
    expect(formatMinor(99_999_999)).toBe('999999.99');
    expect(formatMinor(5000, 0)).toBe('5000');
    expect(parseDecimal('20.5')).toBe(2050);
    expect(parseDecimal('20')).toBe(2000);
    expect(parseDecimal('0.10')).toBe(10);
  });

  test('what is not an exact amount is refused, not rounded', () => {
    for (const text of ['-1.00', '1e3', '0.001', '1,00', '', ' . ', '0x10']) expect(() => parseDecimal(text)).toThrow(RangeError);
    expect(() => formatMinor(-1)).toThrow(RangeError);
    expect(() => formatMinor(0.5)).toThrow(RangeError);
  });
});

describe('SEPA character set', () => {
  test('names are transliterated, never emptied', () => {
    expect(toSepaText('Jürgen Groß & Söhne', 70)).toBe('Juergen Gross + Soehne');
    expect(toSepaText('François Lefèvre-Ørsted', 70)).toBe('Francois Lefevre-Orsted');
    expect(toSepaText('Łódź Sp. z o.o.', 70)).toBe('Lodz Sp. z o.o.');
    expect(toSepaText('Ελληνικά', 70)).toBe('NOTPROVIDED');
    expect(toSepaText('  a\t\nb  ', 70)).toBe('a b');
    expect(toSepaText('x'.repeat(100), 70)).toHaveLength(70);
  });

  test('any text comes out in the set and within its length (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 120 }), fc.integer({ min: 1, max: 140 }), (text, max) => {
        const out = toSepaText(text, max);
        expect(isSepaText(out)).toBe(true);
        expect(out.length).toBeLessThanOrEqual(Math.max(max, 'NOTPROVIDED'.length));
        const ach = toAchText(text, 22);
        expect(ach).toHaveLength(22);
        expect(ach).toMatch(/^[A-Z0-9/\-?:().,'+ ]*$/);
      }),
      { numRuns: 300 },
    );
  });
});

describe('banking calendars', () => {
  test('TARGET2 closes on weekends, New Year, Good Friday, Easter Monday, 1 May, 25-26 December', () => {
    for (const day of ['2026-01-01', '2026-04-03', '2026-04-06', '2026-05-01', '2026-12-25', '2026-12-26', '2026-11-28']) expect(isBankingDay('target2', day)).toBe(false);
    for (const day of ['2026-11-26', '2026-05-14', '2026-10-02']) expect(isBankingDay('target2', day)).toBe(true);
    expect(addBankingDays('target2', '2026-12-24', 1)).toBe('2026-12-28');
    expect(addBankingDays('target2', '2026-04-02', 1)).toBe('2026-04-07');
  });

  test('FedACH closes on federal holidays; a Sunday holiday moves to Monday, a Saturday one does not', () => {
    for (const day of ['2026-11-26', '2026-01-19', '2026-05-25', '2026-06-19', '2026-10-12', '2026-11-11', '2026-09-07']) expect(isBankingDay('fedach', day)).toBe(false);
    expect(isBankingDay('fedach', '2027-07-05')).toBe(false); // 4 July 2027 is a Sunday: observed on Monday
    expect(isBankingDay('fedach', '2027-07-06')).toBe(true);
    expect(isBankingDay('fedach', '2026-07-03')).toBe(true); // 4 July 2026 is a Saturday: the Fed is open on Friday
    expect(addBankingDays('fedach', '2026-11-25', 1)).toBe('2026-11-27');
  });

  test('cut-offs are UTC times; the latest one at or before now', () => {
    const cutoffs = ['09:00', '14:00'];
    expect(latestCutoff(cutoffs, new Date('2026-11-25T08:59:59Z')).toISOString()).toBe('2026-11-24T14:00:00.000Z');
    expect(latestCutoff(cutoffs, new Date('2026-11-25T09:00:00Z')).toISOString()).toBe('2026-11-25T09:00:00.000Z');
    expect(latestCutoff(cutoffs, new Date('2026-11-25T23:00:00Z')).toISOString()).toBe('2026-11-25T14:00:00.000Z');
  });
});

describe('identifiers', () => {
  test('creditor id, IBAN and routing number check digits', () => {
    expect(creditorIdValid('DE98ZZZ09999999999')).toBe(true);
    expect(creditorIdValid('DE97ZZZ09999999999')).toBe(false);
    expect(creditorIdValid('DE98ABC09999999999')).toBe(true); // the business code is outside the check
    expect(ibanValid('DE89 3704 0044 0532 0130 00')).toBe(true);
    expect(ibanValid('DE88370400440532013000')).toBe(false);
    expect(routingNumberValid('110000000')).toBe(true);
    expect(routingNumberValid('110000001')).toBe(false);
  });
});

describe('xml', () => {
  test('what the writer escapes, the reader gives back', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }).filter((text) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(text) && text.trim() === text && text !== ''), (text) => {
        expect(textAt(parseXml(renderXml(el('A', el('B', text)))), 'B')).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});
