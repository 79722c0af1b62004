import { addBankingDays, isoDate, nextBankingDay } from './calendar.ts';
import type { AccountDetails, BatchSummary, FileFormat, PaymentRecord, Placement, RefundRecord } from './model.ts';
import { buildNacha, type AchBatch, type AchEntry, type TransactionCode } from './nacha.ts';
import { buildPain001, type TransferGroup } from './pain001.ts';
import { buildPain008, type DebitGroup, type SequenceType } from './pain008.ts';
import { sumMinor } from './money.ts';
import type { Settings } from './settings.ts';

/**
 * Pure: the entries of one cut-off (records with their unsealed accounts) in, the file's
 * bytes and where each entry sits in it out. cutoff.ts does the state around it.
 */

export type Item = { record: PaymentRecord | RefundRecord; account: AccountDetails };

export type Built = {
  name: string;
  format: FileFormat;
  content: string;
  batches: BatchSummary[];
  placements: Map<string, Placement>;
};

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const name = key(item);
    groups.set(name, [...(groups.get(name) ?? []), item]);
  }
  return new Map([...groups].sort(([a], [b]) => a.localeCompare(b)));
}

function summary(id: string, date: string, kind: string, items: readonly Item[]): BatchSummary {
  return { id, date, kind, entries: items.length, total: sumMinor(items.map((item) => item.record.amount)), references: items.map((item) => item.record.reference) };
}

const sepaAccount = (item: Item) => {
  if (item.account.scheme !== 'sepa') throw new Error('A SEPA file entry needs a SEPA account.');
  return item.account;
};

/** Collections grouped by creditor account, collection date and sequence type: one PmtInf each. */
export function buildSepaDebits(settings: Settings, id: string, at: Date, items: readonly Item[]): Built {
  const sepa = settings.sepa!;
  const collectionDate = addBankingDays('target2', isoDate(at), sepa.leadDays);
  const groups = groupBy(items, (item) => {
    const { creditorId, creditorIban, sequenceType } = (item.record as PaymentRecord).sepa!;
    return [creditorId, creditorIban, sequenceType].join('|');
  });
  const placements = new Map<string, Placement>();
  const batches: BatchSummary[] = [];
  const debitGroups: DebitGroup[] = [...groups.values()].map((members, index) => {
    const { creditorId, creditorIban, sequenceType } = (members[0]!.record as PaymentRecord).sepa!;
    const paymentInfoId = `${id}-${String(index + 1).padStart(3, '0')}`;
    batches.push(summary(paymentInfoId, collectionDate, sequenceType, members));
    const sameAccount = creditorIban === sepa.creditor.iban;
    return {
      paymentInfoId,
      collectionDate,
      sequenceType: sequenceType as SequenceType,
      // A payment keeps the creditor account it was accepted for, should the configuration change meanwhile.
      creditor: { name: sepa.creditor.name, creditorId, iban: creditorIban, ...(sameAccount && sepa.creditor.bic ? { bic: sepa.creditor.bic } : {}) },
      debits: members.map((item) => {
        const record = item.record as PaymentRecord;
        const account = sepaAccount(item);
        placements.set(record.reference, { file: id, batch: paymentInfoId, entryId: record.reference, date: collectionDate });
        return {
          endToEndId: record.reference,
          amount: record.amount,
          debtorName: account.name,
          debtorIban: account.iban,
          mandateReference: record.sepa!.mandateReference,
          mandateSignedAt: record.sepa!.mandateSignedAt,
        };
      }),
    };
  });
  const content = buildPain008({ messageId: id, createdAt: at, initiatingParty: sepa.creditor.name, groups: debitGroups });
  return { name: `${id}.xml`, format: 'pain.008.001.02', content, batches, placements };
}

/** Refunds of collections: credit transfers from our account back to each debtor, one PmtInf. */
export function buildSepaRefunds(settings: Settings, id: string, at: Date, items: readonly Item[]): Built {
  const sepa = settings.sepa!;
  const executionDate = nextBankingDay('target2', isoDate(at));
  const paymentInfoId = `${id}-001`;
  const placements = new Map<string, Placement>();
  const group: TransferGroup = {
    paymentInfoId,
    executionDate,
    debtor: sepa.creditor,
    transfers: items.map((item) => {
      const record = item.record as RefundRecord;
      const account = sepaAccount(item);
      placements.set(record.reference, { file: id, batch: paymentInfoId, entryId: record.reference, date: executionDate });
      return { endToEndId: record.reference, amount: record.amount, creditorName: account.name, creditorIban: account.iban, remittance: `REFUND ${record.paymentReference}` };
    }),
  };
  const content = buildPain001({ messageId: id, createdAt: at, initiatingParty: sepa.creditor.name, groups: [group] });
  return { name: `${id}.xml`, format: 'pain.001.001.03', content, batches: [summary(paymentInfoId, executionDate, 'SCT', items)], placements };
}

function transactionCode(account: AccountDetails, debit: boolean): TransactionCode {
  if (account.scheme !== 'ach') throw new Error('An ACH entry needs an ACH account.');
  if (account.accountType === 'checking') return debit ? '27' : '22';
  return debit ? '37' : '32';
}

/**
 * Debits and refund credits of one cut-off: a batch per SEC code and direction (225
 * debits, 220 credits), all with the same effective date. Trace numbers are the ODFI
 * prefix and a running sequence handed in by the caller.
 */
export function buildAch(settings: Settings, id: string, modifier: string, at: Date, items: readonly Item[], traceOf: (reference: string) => string): Built {
  const ach = settings.ach!;
  const effectiveDate = addBankingDays('fedach', isoDate(at), ach.leadDays);
  const isDebit = (item: Item) => !('paymentReference' in item.record);
  const secOf = (item: Item) => (isDebit(item) ? ((item.record as PaymentRecord).ach?.secCode ?? ach.secCode) : ach.secCode);
  const groups = groupBy(items, (item) => `${secOf(item)}|${isDebit(item) ? 'debit' : 'credit'}`);
  const placements = new Map<string, Placement>();
  const batches: BatchSummary[] = [];
  const achBatches: AchBatch[] = [...groups.values()].map((members, index) => {
    const number = index + 1;
    const debit = isDebit(members[0]!);
    const secCode = secOf(members[0]!) as 'CCD' | 'PPD';
    const batchId = `${id}-B${number}`;
    batches.push(summary(batchId, effectiveDate, `${secCode} ${debit ? 'debit' : 'credit'}`, members));
    const entries: AchEntry[] = members.map((item) => {
      const account = item.account;
      if (account.scheme !== 'ach') throw new Error('An ACH entry needs an ACH account.');
      const record = item.record;
      const trace = traceOf(record.reference);
      placements.set(record.reference, { file: id, batch: batchId, entryId: trace, date: effectiveDate });
      const individualId = 'paymentReference' in record ? record.individualId! : record.ach!.individualId;
      return { transactionCode: transactionCode(account, debit), routing: account.routing, account: account.account, amount: record.amount, individualId, name: account.name, trace };
    });
    return { number, secCode, serviceClass: debit ? 225 : 220, effectiveDate, entries };
  });
  const content = buildNacha({
    destinationRouting: ach.destinationRouting,
    destinationName: ach.destinationName,
    origin: ach.origin,
    originName: ach.originName,
    createdAt: at,
    idModifier: modifier,
    companyName: ach.companyName,
    companyId: ach.companyId,
    entryDescription: ach.entryDescription,
    odfi: ach.odfi,
    batches: achBatches,
  });
  return { name: `${id}.ach`, format: 'nacha', content, batches, placements };
}
