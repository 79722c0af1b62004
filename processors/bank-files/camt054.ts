import { parseDecimal } from './money.ts';
import { child, children, parseXml, textAt, type XmlElement } from './xml.ts';

/**
 * camt.054 (Bank to Customer Debit/Credit Notification), as banks send it for the
 * creditor account: bookings of our collections and transfers, and returns with their
 * reason codes. Versions 02 and 04 are tested against their schemas; later versions
 * (whose entry status became `Sts/Cd`) are read the same way. The result is a flat list
 * of items; deciding what an item means for a payment is ingest.ts's business.
 */

export type CreditDebit = 'CRDT' | 'DBIT';
export type EntryStatus = 'BOOK' | 'PDNG' | 'INFO';

export type StatusItem = {
  /** `return`: the transaction carries return information (a reason code); `booking` otherwise. */
  kind: 'booking' | 'return';
  direction: CreditDebit;
  status: EntryStatus;
  /** Minor units. For a batch booking, the batch total. */
  amount: number;
  currency: string;
  endToEndId?: string;
  /** A batch booked as one entry without transaction details: our message and payment information ids. */
  batch?: { messageId?: string; paymentInfoId?: string; count?: number };
  /** ACH: the trace number of the original entry. */
  originalTrace?: string;
  code?: string;
};

export type StatusReport = { format: string; messageId: string; items: StatusItem[] };

export class StatusFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StatusFileError';
  }
}

const CAMT_054 = /^urn:iso:std:iso:20022:tech:xsd:(camt\.054\.001\.0[2-8])$/;

/** Zero-decimal currencies of API.md; everything else has cents. */
export function exponentOf(currency: string): number {
  return currency === 'JPY' || currency === 'KRW' ? 0 : 2;
}

function amountOf(element: XmlElement | undefined): { amount: number; currency: string } | undefined {
  if (!element) return undefined;
  const currency = element.attributes.Ccy ?? '';
  if (!/^[A-Z]{3}$/.test(currency)) throw new StatusFileError('An amount has no currency.');
  return { amount: parseDecimal(element.text, exponentOf(currency)), currency };
}

function direction(text: string | undefined, fallback?: CreditDebit): CreditDebit {
  if (text === 'CRDT' || text === 'DBIT') return text;
  if (fallback) return fallback;
  throw new StatusFileError('An entry has no credit/debit indicator.');
}

function entryStatus(entry: XmlElement): EntryStatus {
  const text = textAt(entry, 'Sts', 'Cd') || textAt(entry, 'Sts');
  if (text === 'BOOK' || text === 'PDNG' || text === 'INFO') return text;
  throw new StatusFileError(`An entry has an unknown status.`);
}

/** `NOTPROVIDED` is what a bank writes when the originator gave no end-to-end id. */
function reference(text: string | undefined): string | undefined {
  return text && text !== 'NOTPROVIDED' ? text : undefined;
}

function transactionItem(tx: XmlElement, entry: { amount: number; currency: string; direction: CreditDebit; status: EntryStatus; single: boolean }): StatusItem {
  const own = amountOf(child(tx, 'Amt')) ?? amountOf(child(tx, 'AmtDtls', 'TxAmt', 'Amt')) ?? amountOf(child(tx, 'AmtDtls', 'InstdAmt', 'Amt'));
  if (!own && !entry.single) throw new StatusFileError('A transaction of a batch entry has no amount.');
  const returnInfo = child(tx, 'RtrInf');
  const code = returnInfo ? (textAt(returnInfo, 'Rsn', 'Cd') ?? textAt(returnInfo, 'Rsn', 'Prtry') ?? 'MS03') : undefined;
  return {
    kind: returnInfo ? 'return' : 'booking',
    direction: direction(textAt(tx, 'CdtDbtInd'), entry.direction),
    status: entry.status,
    amount: own?.amount ?? entry.amount,
    currency: own?.currency ?? entry.currency,
    endToEndId: reference(textAt(tx, 'Refs', 'EndToEndId')),
    ...(code ? { code } : {}),
  };
}

function entryItems(entry: XmlElement): StatusItem[] {
  const total = amountOf(child(entry, 'Amt'));
  if (!total) throw new StatusFileError('An entry has no amount.');
  const common = { ...total, direction: direction(textAt(entry, 'CdtDbtInd')), status: entryStatus(entry) };
  const details = children(entry, 'NtryDtls');
  const transactions = details.flatMap((detail) => children(detail, 'TxDtls'));
  if (transactions.length > 0) {
    return transactions.map((tx) => transactionItem(tx, { ...common, single: transactions.length === 1 }));
  }
  const batch = details.map((detail) => child(detail, 'Btch')).find(Boolean);
  if (!batch) return [{ kind: 'booking', ...common }];
  const batchTotal = amountOf(child(batch, 'TtlAmt'));
  const count = textAt(batch, 'NbOfTxs');
  return [
    {
      kind: 'booking',
      ...common,
      ...(batchTotal ?? {}),
      batch: { messageId: textAt(batch, 'MsgId'), paymentInfoId: textAt(batch, 'PmtInfId'), ...(count ? { count: Number(count) } : {}) },
    },
  ];
}

export function isCamt054(root: XmlElement): boolean {
  return root.name === 'Document' && CAMT_054.test(root.namespace ?? '');
}

export function parseCamt054(xml: string | XmlElement): StatusReport {
  const root = typeof xml === 'string' ? parseXml(xml) : xml;
  const format = CAMT_054.exec(root.namespace ?? '')?.[1];
  const message = child(root, 'BkToCstmrDbtCdtNtfctn');
  if (root.name !== 'Document' || !format || !message) throw new StatusFileError('Not a camt.054 notification.');
  const messageId = textAt(message, 'GrpHdr', 'MsgId');
  if (!messageId) throw new StatusFileError('The notification has no message id.');
  const items = children(message, 'Ntfctn').flatMap((notification) => children(notification, 'Ntry').flatMap(entryItems));
  return { format, messageId, items };
}
