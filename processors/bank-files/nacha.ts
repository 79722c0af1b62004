import { toAchText } from './charset.ts';
import { sumMinor } from './money.ts';

/**
 * A NACHA (ACH) file: 94-character records, a file header, batches of entries each
 * closed by a batch control, a file control, and `9` filler records up to a multiple of
 * the blocking factor 10. Entry hash: the sum of the receiving banks' eight-digit routing
 * numbers, keeping the rightmost ten digits. No addenda: nothing beyond what an entry
 * requires leaves the platform.
 */

export const RECORD_LENGTH = 94;
export const BLOCKING_FACTOR = 10;

/** 27/37: debit checking/savings; 22/32: credit checking/savings (refunds). */
export type TransactionCode = '22' | '27' | '32' | '37';

export type AchEntry = {
  transactionCode: TransactionCode;
  /** Nine-digit ABA routing number of the receiver's bank. */
  routing: string;
  account: string;
  /** Cents. */
  amount: number;
  /** 15 characters that identify the entry to us (and come back in a return). */
  individualId: string;
  name: string;
  trace: string;
};

export type AchBatch = {
  number: number;
  secCode: 'CCD' | 'PPD';
  /** 225 debits only, 220 credits only. */
  serviceClass: 220 | 225;
  effectiveDate: string;
  entries: AchEntry[];
};

export type AchFile = {
  destinationRouting: string;
  destinationName: string;
  origin: string;
  originName: string;
  createdAt: Date;
  idModifier: string;
  companyName: string;
  companyId: string;
  entryDescription: string;
  odfi: string;
  batches: AchBatch[];
};

const num = (value: number | string, length: number) => {
  const text = String(value);
  if (!/^[0-9]*$/.test(text) || text.length > length) throw new RangeError(`A numeric field of ${length} digits cannot hold this value.`);
  return text.padStart(length, '0');
};
const alpha = (value: string, length: number) => toAchText(value, length);
/** Identifiers are copied as they are (no transliteration), left-justified. */
const ident = (value: string, length: number) => {
  if (value.length > length || !/^[0-9A-Z -]*$/.test(value)) throw new RangeError(`An identifier field of ${length} characters cannot hold this value.`);
  return value.padEnd(length, ' ');
};
const yymmdd = (date: string) => date.slice(2, 4) + date.slice(5, 7) + date.slice(8, 10);

function record(...fields: string[]): string {
  const line = fields.join('');
  if (line.length !== RECORD_LENGTH) throw new Error(`A NACHA record must be ${RECORD_LENGTH} characters, not ${line.length}.`);
  return line;
}

/** Rightmost ten digits of the sum of the eight-digit routing prefixes. */
export function entryHash(routings: readonly string[]): string {
  const sum = routings.reduce((total, routing) => total + Number(routing.slice(0, 8)), 0);
  return String(sum).padStart(10, '0').slice(-10);
}

const isDebit = (code: TransactionCode) => code === '27' || code === '37';

function entryRecord(entry: AchEntry): string {
  if (!/^[0-9]{9}$/.test(entry.routing)) throw new RangeError('A routing number has nine digits.');
  return record(
    '6',
    entry.transactionCode,
    entry.routing.slice(0, 8),
    entry.routing.slice(8),
    ident(entry.account, 17),
    num(entry.amount, 10),
    ident(entry.individualId, 15),
    alpha(entry.name, 22),
    '  ',
    '0',
    num(entry.trace, 15),
  );
}

function batchRecords(file: AchFile, batch: AchBatch): string[] {
  const debits = sumMinor(batch.entries.filter((entry) => isDebit(entry.transactionCode)).map((entry) => entry.amount));
  const credits = sumMinor(batch.entries.filter((entry) => !isDebit(entry.transactionCode)).map((entry) => entry.amount));
  const header = record(
    '5',
    String(batch.serviceClass),
    alpha(file.companyName, 16),
    ' '.repeat(20),
    ident(file.companyId, 10),
    batch.secCode,
    alpha(file.entryDescription, 10),
    ' '.repeat(6),
    yymmdd(batch.effectiveDate),
    '   ',
    '1',
    num(file.odfi, 8),
    num(batch.number, 7),
  );
  const control = record(
    '8',
    String(batch.serviceClass),
    num(batch.entries.length, 6),
    entryHash(batch.entries.map((entry) => entry.routing)),
    num(debits, 12),
    num(credits, 12),
    ident(file.companyId, 10),
    ' '.repeat(19),
    ' '.repeat(6),
    num(file.odfi, 8),
    num(batch.number, 7),
  );
  return [header, ...batch.entries.map(entryRecord), control];
}

export function buildNacha(file: AchFile): string {
  const entries = file.batches.flatMap((batch) => batch.entries);
  if (entries.length === 0) throw new Error('An ACH file needs at least one entry.');
  if (!/^[A-Z0-9]$/.test(file.idModifier)) throw new RangeError('The file id modifier is one of A-Z, 0-9.');
  const created = file.createdAt.toISOString();
  const header = record(
    '1',
    '01',
    ` ${num(file.destinationRouting, 9)}`,
    file.origin.padStart(10, ' '),
    yymmdd(created.slice(0, 10)),
    created.slice(11, 13) + created.slice(14, 16),
    file.idModifier,
    '094',
    String(BLOCKING_FACTOR),
    '1',
    alpha(file.destinationName, 23),
    alpha(file.originName, 23),
    ' '.repeat(8),
  );
  const body = file.batches.flatMap((batch) => batchRecords(file, batch));
  const lines = [header, ...body];
  const blocks = Math.ceil((lines.length + 1) / BLOCKING_FACTOR);
  const control = record(
    '9',
    num(file.batches.length, 6),
    num(blocks, 6),
    num(entries.length, 8),
    entryHash(entries.map((entry) => entry.routing)),
    num(sumMinor(entries.filter((entry) => isDebit(entry.transactionCode)).map((entry) => entry.amount)), 12),
    num(sumMinor(entries.filter((entry) => !isDebit(entry.transactionCode)).map((entry) => entry.amount)), 12),
    ' '.repeat(39),
  );
  lines.push(control);
  while (lines.length % BLOCKING_FACTOR !== 0) lines.push('9'.repeat(RECORD_LENGTH));
  return `${lines.join('\n')}\n`;
}
