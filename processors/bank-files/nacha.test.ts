import { describe, expect, test } from 'bun:test';
import nacha from '@midlandsbank/node-nacha';
import fc from 'fast-check';
import { BLOCKING_FACTOR, buildNacha, entryHash, RECORD_LENGTH, type AchEntry } from './nacha.ts';
import { parseNachaReturns } from './nacha-returns.ts';
import { ACH_ACCOUNTS } from './testing/bank.ts';
import { achDebit, harness } from './testing/fixtures.ts';
import { nachaReturnFile } from './testing/nacha-returns.ts';

/**
 * NACHA files as the connector writes them, read back by a third-party parser
 * (@midlandsbank/node-nacha): the same entries, batch and file totals and entry hash.
 * The control records are also checked field by field here, since a parser may be lenient.
 */

type Parsed = {
  file: { destination: string; origin: string; idModifier: string; recordSize: string; blockingFactor: string; footer: Record<string, number> };
  batches: Array<{
    serviceClassCode: number;
    entryClassCode: string;
    companyId: string;
    effectiveDate: string;
    entries: Array<{ transactionCode: string; receivingDFIIdentification: number; checkDigit: number; dfiAccount: string; amount: number; identificationNumber: string; receivingCompanyName: string; traceNumber: number }>;
    footer: { entryAndAddendaCount: number; entryHash: number; totalDebit: number; totalCredit: number };
  }>;
};

const parse = (text: string) => nacha.from(text).data as Parsed;

async function builtFile() {
  const h = harness();
  const accounts = [ACH_ACCOUNTS.settles, ACH_ACCOUNTS.noFunds, ACH_ACCOUNTS.unauthorized];
  for (const [index, account] of accounts.entries()) await h.authorize(achDebit(account, { type: index === 1 ? 'savings' : 'checking', name: `Payer ${index} Société` }), 1000 * (index + 1) + 7);
  h.setClock('2026-11-25T20:00:30.000Z');
  const [file] = await h.operator.runDueCutoffs();
  await h.operator.deliverFiles();
  return { text: h.files.delivered.get(file!.name)!, file: file!, h };
}

describe('NACHA files', () => {
  test('the third-party parser reads the same entries, totals and hash', async () => {
    const { text, file } = await builtFile();
    const parsed = parse(text);
    expect(parsed.file.recordSize).toBe('094');
    expect(parsed.file.blockingFactor).toBe('10');
    expect(parsed.file.destination.trim()).toBe('110000000');
    expect(parsed.batches).toHaveLength(1);
    const [batch] = parsed.batches;
    expect(batch!.serviceClassCode).toBe(225);
    expect(batch!.entryClassCode).toBe('CCD');
    expect(batch!.effectiveDate).toBe('261127'); // 26 November 2026 is Thanksgiving: no Fed settlement
    const entries = batch!.entries.map((entry) => ({
      code: entry.transactionCode,
      routing: `${String(entry.receivingDFIIdentification).padStart(8, '0')}${entry.checkDigit}`,
      account: entry.dfiAccount,
      amount: entry.amount,
      name: entry.receivingCompanyName,
      trace: String(entry.traceNumber).padStart(15, '0'),
    }));
    expect(entries.sort((a, b) => a.amount - b.amount)).toEqual([
      { code: '27', routing: '110000000', account: ACH_ACCOUNTS.settles, amount: 1007, name: 'PAYER 0 SOCIETE', trace: expect.stringMatching(/^11000000\d{7}$/) },
      { code: '37', routing: '110000000', account: ACH_ACCOUNTS.noFunds, amount: 2007, name: 'PAYER 1 SOCIETE', trace: expect.stringMatching(/^11000000\d{7}$/) },
      { code: '27', routing: '110000000', account: ACH_ACCOUNTS.unauthorized, amount: 3007, name: 'PAYER 2 SOCIETE', trace: expect.stringMatching(/^11000000\d{7}$/) },
    ]);
    const hash = Number(entryHash(['110000000', '110000000', '110000000']));
    expect(batch!.footer).toMatchObject({ entryAndAddendaCount: 3, entryHash: hash, totalDebit: 6021, totalCredit: 0 });
    expect(parsed.file.footer).toMatchObject({ batchCount: 1, blockCount: 1, entryAndAddendaCount: 3, entryHash: hash, totalDebit: 6021, totalCredit: 0 });
    expect(file.total).toBe(6021);
  });

  test('records: 94 characters, a multiple of ten, controls that add up', async () => {
    const { text } = await builtFile();
    const lines = text.split('\n').filter(Boolean);
    expect(lines.every((line) => line.length === RECORD_LENGTH)).toBe(true);
    expect(lines.length % BLOCKING_FACTOR).toBe(0);
    expect(lines.map((line) => line[0]).join('')).toBe('156668' + '9' + '999');
    const control = lines.find((line) => line.startsWith('8'))!;
    const fileControl = lines.find((line) => line.startsWith('9') && !/^9+$/.test(line))!;
    expect(control.slice(1, 4)).toBe('225');
    expect(control.slice(4, 10)).toBe('000003');
    expect(control.slice(10, 20)).toBe('0033000000');
    expect(control.slice(20, 32)).toBe('000000006021');
    expect(control.slice(44, 54)).toBe('1234567890');
    expect(fileControl.slice(1, 7)).toBe('000001'); // batches
    expect(fileControl.slice(7, 13)).toBe('000001'); // blocks of ten records
    expect(fileControl.slice(13, 21)).toBe('00000003');
  });

  test('entry hash keeps the rightmost ten digits (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[0-9]{9}$/), { minLength: 1, maxLength: 300 }), (routings) => {
        const sum = routings.reduce((total, routing) => total + BigInt(routing.slice(0, 8)), 0n);
        expect(entryHash(routings)).toBe((sum % 10_000_000_000n).toString().padStart(10, '0'));
      }),
      { numRuns: 200 },
    );
  });

  test('many entries of any amount: the parser agrees on every total (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ amount: fc.integer({ min: 1, max: 99_999_999 }), credit: fc.boolean(), savings: fc.boolean() }), { minLength: 1, maxLength: 40 }), (specs) => {
        const entry = (spec: (typeof specs)[number], index: number): AchEntry => ({
          transactionCode: spec.credit ? (spec.savings ? '32' : '22') : spec.savings ? '37' : '27',
          routing: '110000000',
          account: String(index).padStart(12, '0'),
          amount: spec.amount,
          individualId: `ID${index}`,
          name: `N${index}`,
          trace: `11000000${String(index).padStart(7, '0')}`,
        });
        const entries = specs.map(entry);
        const debits = entries.filter((e) => e.transactionCode === '27' || e.transactionCode === '37');
        const credits = entries.filter((e) => e.transactionCode === '22' || e.transactionCode === '32');
        const batches = [
          ...(debits.length ? [{ number: 1, secCode: 'PPD' as const, serviceClass: 225 as const, effectiveDate: '2026-11-27', entries: debits }] : []),
          ...(credits.length ? [{ number: 2, secCode: 'PPD' as const, serviceClass: 220 as const, effectiveDate: '2026-11-27', entries: credits }] : []),
        ];
        const text = buildNacha({
          destinationRouting: '110000000', destinationName: 'B', origin: '1234567890', originName: 'O', createdAt: new Date('2026-11-25T20:00:00Z'),
          idModifier: 'A', companyName: 'C', companyId: '1234567890', entryDescription: 'PAYMENT', odfi: '11000000', batches,
        });
        const parsed = parse(text);
        const sum = (list: AchEntry[]) => list.reduce((total, e) => total + e.amount, 0);
        expect(parsed.file.footer).toMatchObject({ totalDebit: sum(debits), totalCredit: sum(credits), entryAndAddendaCount: entries.length, batchCount: batches.length });
        expect(parsed.batches.flatMap((batch) => batch.entries.map((e) => e.amount))).toEqual([...debits, ...credits].map((e) => e.amount));
        expect(text.split('\n').filter(Boolean).length % 10).toBe(0);
      }),
      { numRuns: 25 },
    );
  });
});

describe('NACHA return files', () => {
  test('the test ODFI\'s returns parse the same with the third-party parser and ours', () => {
    const file = nachaReturnFile(
      [
        { returnOf: '27', routing: '110000000', account: ACH_ACCOUNTS.noFunds, amount: 2000, individualId: 'ABC', name: 'ACME', originalTrace: '110000000000001', code: 'R01' },
        { returnOf: '22', routing: '110000000', account: ACH_ACCOUNTS.refundBounces, amount: 500, individualId: 'DEF', name: 'ACME', originalTrace: '110000000000009', code: 'R02' },
      ],
      new Date('2026-11-27T05:00:00Z'),
      1,
    );
    const theirs = parse(file.content).batches[0]!.entries as unknown as Array<{ transactionCode: string; amount: number; addenda: { type: string; info: string } }>;
    expect(theirs.map((entry) => [entry.transactionCode, entry.amount, entry.addenda.type, entry.addenda.info.slice(0, 3), entry.addenda.info.slice(3, 18)])).toEqual([
      ['26', 2000, '99', 'R01', '110000000000001'],
      ['21', 500, '99', 'R02', '110000000000009'],
    ]);
    expect(parseNachaReturns(file.content).items).toEqual([
      { kind: 'return', direction: 'DBIT', status: 'BOOK', amount: 2000, currency: 'USD', code: 'R01', originalTrace: '110000000000001' },
      { kind: 'return', direction: 'CRDT', status: 'BOOK', amount: 500, currency: 'USD', code: 'R02', originalTrace: '110000000000009' },
    ]);
  });

  test('a file that is not NACHA is refused', () => {
    expect(() => parseNachaReturns('101 short line')).toThrow('94');
    const header = `101 110000000 110000000261127050${'A'}094101${' '.repeat(54)}`;
    expect(() => parseNachaReturns(`${header.padEnd(94)}\n${'X'.repeat(94)}`)).toThrow('unknown record type');
  });
});
