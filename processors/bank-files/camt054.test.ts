import { describe, expect, test } from 'bun:test';
import { parseCamt054, StatusFileError } from './camt054.ts';
import { parseStatusFile } from './ingest.ts';
import { createTestBank, SEPA_ACCOUNTS } from './testing/bank.ts';
import { CREDENTIALS, harness, sepaDebit } from './testing/fixtures.ts';
import { validateAll } from './testing/xsd.ts';

/**
 * camt.054 as the test bank answers our pain.008 and pain.001: its files validate against
 * the camt.054.001.02 and .04 schemas, and the connector reads the same bookings and
 * returns from either version and either booking style.
 */

async function collectionsFile() {
  const h = harness();
  const references: Record<string, string> = {};
  for (const [name, iban] of Object.entries(SEPA_ACCOUNTS)) {
    const outcome = await h.authorize(sepaDebit(iban, { mandate: `MNDT-${name}` }), 1234);
    references[name] = (outcome as { value: { reference: string } }).value.reference;
  }
  h.setClock('2026-11-25T09:00:30.000Z');
  await h.operator.runDueCutoffs();
  const [file] = await h.operator.deliverFiles();
  return { xml: h.files.delivered.get(file!.name)!, references, file: file! };
}

describe('camt.054 from the test bank', () => {
  for (const version of ['02', '04'] as const) {
    test(`version ${version}: bookings and returns validate and parse, batch listed or summed`, async () => {
      const { xml, references, file } = await collectionsFile();
      const detailed = createTestBank({ account: CREDENTIALS.sepaCreditorIban!, camtVersion: version, booking: 'details', now: () => new Date('2026-11-26T06:00:00Z') });
      const summed = createTestBank({ account: CREDENTIALS.sepaCreditorIban!, camtVersion: version, booking: 'sum', now: () => new Date('2026-11-26T06:00:00Z') });
      const [listed] = detailed.receive(xml);
      const [sum] = summed.receive(xml);
      const [later] = detailed.later();
      const result = await validateAll(`camt.054.001.${version}`, [listed!.content, sum!.content, later!.content]);
      expect(result.errors).toEqual([]);

      const report = parseCamt054(listed!.content);
      expect(report.format).toBe(`camt.054.001.${version}`);
      const returns = report.items.filter((item) => item.kind === 'return');
      const byCode = returns.map((item) => [item.code, item.endToEndId, item.status, item.direction, item.amount]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
      expect(byCode).toEqual([
        ['AC04', references.closed, 'INFO', 'CRDT', 1234],
        ['AM04', references.noFunds, 'INFO', 'CRDT', 1234],
        ['MD01', references.noMandate, 'INFO', 'CRDT', 1234],
      ]);
      const bookings = report.items.filter((item) => item.kind === 'booking');
      expect(bookings.map((item) => item.endToEndId).sort()).toEqual([references.settles, references.refundRequest, references.refundBounces].sort());
      expect(bookings.every((item) => item.status === 'BOOK' && item.direction === 'CRDT' && item.amount === 1234 && item.currency === 'EUR')).toBe(true);

      const batch = parseCamt054(sum!.content).items.filter((item) => item.kind === 'booking');
      expect(batch).toEqual([
        { kind: 'booking', direction: 'CRDT', status: 'BOOK', amount: 3 * 1234, currency: 'EUR', batch: { messageId: file.id, paymentInfoId: `${file.id}-001`, count: 3 } },
      ]);

      const after = parseCamt054(later!.content).items;
      expect(after).toEqual([{ kind: 'return', direction: 'DBIT', status: 'BOOK', amount: 1234, currency: 'EUR', endToEndId: references.refundRequest, code: 'MD06' }]);
    });
  }

  test('what is not a camt.054 we read is refused, never half applied', () => {
    const valid = `<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"><BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>M</MsgId></GrpHdr></BkToCstmrDbtCdtNtfctn></Document>`;
    expect(parseStatusFile(valid)).toEqual({ format: 'camt.054.001.02', messageId: 'M', items: [] });
    const hostile = [
      // Entities (XXE, billion laughs) need a DOCTYPE: refused outright.
      `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">&x;</Document>`,
      valid.replace('camt.054.001.02', 'camt.053.001.02'),
      valid.replace('</Document>', ''),
      valid.replace('<MsgId>M</MsgId>', ''),
      'hello',
      '',
    ];
    for (const text of hostile) expect(() => parseStatusFile(text)).toThrow(StatusFileError);
    const badAmount = valid.replace('</GrpHdr>', '</GrpHdr><Ntfctn><Ntry><Amt Ccy="EUR">1.001</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts></Ntry></Ntfctn>');
    expect(() => parseStatusFile(badAmount)).toThrow(StatusFileError);
    expect(() => parseStatusFile(badAmount)).toThrow('more decimals');
  });
});
