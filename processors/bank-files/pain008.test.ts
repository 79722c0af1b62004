import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import SEPA from 'sepa';
import { formatMinor } from './money.ts';
import { buildPain008, type DebitGroup } from './pain008.ts';
import { SEPA_ACCOUNTS } from './testing/bank.ts';
import { CREDENTIALS, harness, sepaDebit } from './testing/fixtures.ts';
import { validate, validateAll } from './testing/xsd.ts';
import { child, children, parseXml, textAt, type XmlElement } from './xml.ts';

/**
 * pain.008.001.02 as the connector writes it: valid against the ISO 20022 schema, and
 * the same transactions an independent generator (the `sepa` npm package) writes for the
 * same batch. pain.001 (refunds) is checked against its schema in bank-files.test.ts.
 */

const creditor = { name: CREDENTIALS.sepaCreditorName!, iban: CREDENTIALS.sepaCreditorIban!, bic: CREDENTIALS.sepaCreditorBic!, creditorId: CREDENTIALS.sepaCreditorId! };

function oneGroup(overrides: Partial<DebitGroup['debits'][number]> = {}): string {
  return buildPain008({
    messageId: 'NBF-SDD-20261125-000001-abcdef',
    createdAt: new Date('2026-11-25T09:00:00.000Z'),
    initiatingParty: creditor.name,
    groups: [
      {
        paymentInfoId: 'NBF-SDD-20261125-000001-abcdef-001',
        collectionDate: '2026-11-26',
        sequenceType: 'FRST',
        creditor,
        debits: [
          { endToEndId: 'bfp-000000000000000000000001', amount: 2050, debtorName: 'Jane Doe', debtorIban: SEPA_ACCOUNTS.settles, mandateReference: 'MNDT-1', mandateSignedAt: '2026-11-01', ...overrides },
        ],
      },
    ],
  });
}

/** What a debtor's bank needs of each transaction, read back from any pain.008. */
function transactions(xml: string) {
  const message = child(parseXml(xml), 'CstmrDrctDbtInitn')!;
  return children(message, 'PmtInf').flatMap((block: XmlElement) =>
    children(block, 'DrctDbtTxInf').map((tx) => ({
      endToEndId: textAt(tx, 'PmtId', 'EndToEndId'),
      amount: textAt(tx, 'InstdAmt'),
      currency: child(tx, 'InstdAmt')?.attributes.Ccy,
      mandate: textAt(tx, 'DrctDbtTx', 'MndtRltdInf', 'MndtId'),
      signedAt: textAt(tx, 'DrctDbtTx', 'MndtRltdInf', 'DtOfSgntr'),
      debtor: textAt(tx, 'Dbtr', 'Nm'),
      iban: textAt(tx, 'DbtrAcct', 'Id', 'IBAN'),
      sequenceType: textAt(block, 'PmtTpInf', 'SeqTp'),
      collectionDate: textAt(block, 'ReqdColltnDt'),
      creditorId: textAt(block, 'CdtrSchmeId', 'Id', 'PrvtId', 'Othr', 'Id'),
      creditorIban: textAt(block, 'CdtrAcct', 'Id', 'IBAN'),
    })),
  ).sort((a, b) => a.endToEndId!.localeCompare(b.endToEndId!));
}

describe('pain.008.001.02 against the ISO 20022 schema', () => {
  test('a file the connector built at a cut-off validates, and so does a single debit', async () => {
    const h = harness();
    const debtors = [SEPA_ACCOUNTS.settles, SEPA_ACCOUNTS.closed, SEPA_ACCOUNTS.refundRequest];
    for (const [index, iban] of debtors.entries()) await h.authorize(sepaDebit(iban, { name: 'Zoë Ørsted-Łukasiewicz & Söhne', mandate: `MNDT-${index}` }), 1 + index * 99_999);
    await h.authorize(sepaDebit(SEPA_ACCOUNTS.settles, { mandate: 'MNDT-0' }), 99_999_999); // RCUR under MNDT-0
    h.setClock('2026-11-25T09:00:30.000Z');
    const [file] = await h.operator.runDueCutoffs();
    const [delivered] = await h.operator.deliverFiles();
    const xml = h.files.delivered.get(delivered!.name)!;
    expect(file!.format).toBe('pain.008.001.02');
    const result = await validateAll('pain.008.001.02', [xml, oneGroup()]);
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
    expect(xml).toContain('<Nm>Zoe Orsted-Lukasiewicz + Soehne</Nm>');
    expect(textAt(parseXml(xml), 'CstmrDrctDbtInitn', 'GrpHdr', 'CtrlSum')).toBe('1002999.99');
    expect(file!.total).toBe(1 + 100_000 + 199_999 + 99_999_999);
  });

  test('a broken file fails validation: a missing amount, an IBAN that is no IBAN', async () => {
    const missingAmount = oneGroup().replace(/\s*<InstdAmt Ccy="EUR">20.50<\/InstdAmt>/, '');
    const badIban = oneGroup({ debtorIban: 'DE89 3704 0044 0532 0130 00' });
    const negative = oneGroup().replace('<InstdAmt Ccy="EUR">20.50', '<InstdAmt Ccy="EUR">-20.50');
    for (const broken of [missingAmount, badIban, negative]) {
      const result = await validate('pain.008.001.02', broken);
      expect(result.valid).toBe(false);
      expect(result.errors.length).toBeGreaterThan(0);
    }
  });

  test('amounts are exact decimal renderings of any number of cents (property)', async () => {
    const amounts = fc.sample(fc.integer({ min: 1, max: 99_999_999 }), { numRuns: 60, seed: 16 });
    const debits = amounts.map((amount, index) => ({
      endToEndId: `bfp-${String(index).padStart(24, '0')}`,
      amount,
      debtorName: 'Jane Doe',
      debtorIban: SEPA_ACCOUNTS.settles,
      mandateReference: `MNDT-${index}`,
      mandateSignedAt: '2026-11-01',
    }));
    const xml = buildPain008({
      messageId: 'M',
      createdAt: new Date('2026-11-25T09:00:00Z'),
      initiatingParty: 'X',
      groups: [{ paymentInfoId: 'P', collectionDate: '2026-11-26', sequenceType: 'RCUR', creditor, debits }],
    });
    expect((await validate('pain.008.001.02', xml)).valid).toBe(true);
    const written = transactions(xml).map((tx) => tx.amount);
    expect(written).toEqual(debits.map((debit) => formatMinor(debit.amount)));
    const sum = amounts.reduce((total, amount) => total + amount, 0);
    expect(textAt(parseXml(xml), 'CstmrDrctDbtInitn', 'GrpHdr', 'CtrlSum')).toBe(formatMinor(sum));
  });
});

describe('agreement with an independent generator (the sepa npm package)', () => {
  test('the same batch built with sepa.js has the same transactions', async () => {
    const h = harness();
    const debtors = [
      { iban: SEPA_ACCOUNTS.settles, name: 'Jane Doe', mandate: 'MNDT-A', amount: 2000 },
      { iban: SEPA_ACCOUNTS.closed, name: 'ACME Trading Ltd.', mandate: 'MNDT-B', amount: 1 },
      { iban: SEPA_ACCOUNTS.noFunds, name: "O'Brien (Finance) +1", mandate: 'MNDT/C-2026', amount: 123_456_78 },
    ];
    const references: string[] = [];
    for (const debtor of debtors) {
      const outcome = await h.authorize(sepaDebit(debtor.iban, { name: debtor.name, mandate: debtor.mandate }), debtor.amount);
      references.push((outcome as { value: { reference: string } }).value.reference);
    }
    h.setClock('2026-11-25T09:00:30.000Z');
    await h.operator.runDueCutoffs();
    const [delivered] = await h.operator.deliverFiles();
    const ours = h.files.delivered.get(delivered!.name)!;

    const doc = new SEPA.Document('pain.008.001.02');
    doc.grpHdr.id = 'INDEPENDENT-1';
    doc.grpHdr.created = new Date('2026-11-25T09:00:00Z');
    doc.grpHdr.initiatorName = creditor.name;
    const info = doc.createPaymentInfo();
    info.collectionDate = new Date('2026-11-26T12:00:00Z');
    info.creditorIBAN = creditor.iban;
    info.creditorBIC = creditor.bic;
    info.creditorName = creditor.name;
    info.creditorId = creditor.creditorId;
    info.sequenceType = 'FRST';
    doc.addPaymentInfo(info);
    debtors.forEach((debtor, index) => {
      const tx = info.createTransaction();
      tx.debtorName = debtor.name;
      tx.debtorIBAN = debtor.iban;
      tx.mandateId = debtor.mandate;
      tx.mandateSignatureDate = new Date('2026-11-01T12:00:00Z');
      tx.amount = debtor.amount / 100;
      tx.end2endId = references[index]!;
      // sepa.js always writes RmtInf/Ustrd (empty is invalid); ours sends none. Compared below: the transactions.
      tx.remittanceInfo = 'INDEPENDENT';
      info.addTransaction(tx);
    });
    const theirs = doc.toString();

    expect((await validateAll('pain.008.001.02', [ours, theirs])).valid).toBe(true);
    expect(transactions(ours)).toEqual(transactions(theirs));
    expect(transactions(ours)).toHaveLength(3);
  });
});
