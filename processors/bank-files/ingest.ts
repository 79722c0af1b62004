import { createHash } from 'node:crypto';
import type { Logger } from '../../runtime/logger.ts';
import type { ProcessorState, ProcessorStateTx } from '../sdk/index.ts';
import { isCamt054, parseCamt054, StatusFileError, type StatusItem, type StatusReport } from './camt054.ts';
import { isReturnCode, returnMessage } from './codes.ts';
import type { FileRecord, InboundRecord, PaymentRecord, RefundRecord, ReversalRecord } from './model.ts';
import { looksLikeNacha, parseNachaReturns } from './nacha-returns.ts';
import { achSettled } from './operations.ts';
import type { Settings } from './settings.ts';
import { closeEntries, isPaymentReference, isRefundReference, keys, type Outcome } from './store.ts';
import { parseXml, XmlError } from './xml.ts';

/**
 * Reads a status file from the bank (camt.054 or a NACHA return file) into the state, in
 * one transaction: returns first, then bookings, so a file that books a batch and returns
 * one of its debits fails that debit instead of settling it and reversing it again.
 *
 * - A return of a debit not yet settled: the payment fails with the bank's code.
 * - A return of a settled debit: a reversal, which the plugin turns into a refund.
 * - A booking (status BOOK) of a debit or of a refund credit, by end-to-end id, or of a
 *   whole batch by its PmtInfId: succeeded, when the amount is exactly what we sent.
 * - Anything else (other transactions on the account, amounts that do not match) is
 *   counted as unmatched and logged without account data, for a person to look at.
 *
 * The file's SHA-256 dedupes: the same file from the inbox and from the upload endpoint
 * is applied once.
 */

export type IngestResult = InboundRecord & { duplicate: boolean; outcomes: Outcome[]; reversals: string[] };
export type IngestDeps = { state: ProcessorState; settings: Settings; now: () => number; logger: Logger };

export function parseStatusFile(content: string): StatusReport {
  if (looksLikeNacha(content)) return parseNachaReturns(content);
  if (!/^\uFEFF?\s*</.test(content)) throw new StatusFileError('Not a status file this connector reads (camt.054 or a NACHA return file).');
  try {
    const root = parseXml(content);
    if (!isCamt054(root)) throw new StatusFileError('An XML file that is not a camt.054 notification.');
    return parseCamt054(root);
  } catch (error) {
    if (error instanceof XmlError) throw new StatusFileError(`Malformed XML: ${error.message}`);
    if (error instanceof RangeError) throw new StatusFileError(error.message);
    throw error;
  }
}

type Entry = { kind: 'payment'; record: PaymentRecord } | { kind: 'refund'; record: RefundRecord };

class Application {
  readonly outcomes: Outcome[] = [];
  readonly reversals: string[] = [];
  readonly closed = new Map<string, number>();
  applied = 0;
  unmatched = 0;

  constructor(
    private readonly tx: ProcessorStateTx,
    private readonly at: string,
    /** An ACH entry past its return window has settled, whether or not the worker has recorded it yet. */
    private readonly settledByCalendar: (record: PaymentRecord | RefundRecord) => boolean,
  ) {}

  async entry(item: StatusItem): Promise<Entry | undefined> {
    const reference = item.endToEndId ?? (item.originalTrace ? await this.tx.get<string>(keys.trace(item.originalTrace)) : undefined);
    if (reference && isPaymentReference(reference)) {
      const record = await this.tx.get<PaymentRecord>(keys.payment(reference));
      return record && { kind: 'payment', record };
    }
    if (reference && isRefundReference(reference)) {
      const record = await this.tx.get<RefundRecord>(keys.refund(reference));
      return record && { kind: 'refund', record };
    }
    return undefined;
  }

  private async finish(entry: Entry, outcome: Outcome): Promise<void> {
    const { record } = entry;
    await this.tx.put(entry.kind === 'payment' ? keys.payment(record.reference) : keys.refund(record.reference), record);
    this.outcomes.push(outcome);
    this.applied++;
    if (record.placement) this.closed.set(record.placement.file, (this.closed.get(record.placement.file) ?? 0) + 1);
  }

  private async failRefund(refund: RefundRecord, code: string, message: string): Promise<void> {
    refund.status = 'failed';
    refund.failure = { code, message };
    const payment = await this.tx.get<PaymentRecord>(keys.payment(refund.paymentReference));
    if (payment) {
      payment.refunded -= refund.amount;
      await this.tx.put(keys.payment(payment.reference), payment);
    }
    await this.finish({ kind: 'refund', record: refund }, { kind: 'refund', reference: refund.reference, status: 'failed', code, message });
  }

  async returned(item: StatusItem): Promise<void> {
    const entry = await this.entry(item);
    const code = item.code && isReturnCode(item.code) ? item.code : 'MS03';
    const message = returnMessage(code);
    if (!entry) return void this.unmatched++;
    // `sync` may already have told the payments layer it succeeded: record that first, so
    // this return is a reversal and not a failure the payments layer would ignore.
    if (this.settledByCalendar(entry.record)) await this.settle(entry, entry.kind === 'payment' ? 'CRDT' : 'DBIT');
    if (entry.kind === 'refund') {
      if (entry.record.status === 'queued' || entry.record.status === 'submitted') await this.failRefund(entry.record, code, message);
      else this.unmatched++; // a refund already booked and then returned: money back on our account, for a person
      return;
    }
    const payment = entry.record;
    switch (payment.status) {
      case 'queued':
      case 'submitted': {
        payment.status = 'failed';
        payment.failure = { code, message };
        if (payment.sepa) await this.releaseMandate(payment);
        await this.finish(entry, { kind: 'payment', reference: payment.reference, status: 'failed', code, message });
        return;
      }
      case 'succeeded':
        if (payment.returned) return;
        payment.returned = { code, message, amount: payment.amount, at: this.at, absorbed: 0 };
        await this.tx.put(keys.payment(payment.reference), payment);
        // Credits back to the debtor not yet in a file would pay them twice: they fail.
        for (const reference of payment.refunds) {
          const refund = await this.tx.get<RefundRecord>(keys.refund(reference));
          if (refund?.status === 'queued') await this.failRefund(refund, 'debit_returned', 'The debtor\'s bank returned the debit before this refund was sent.');
        }
        await this.tx.put(keys.reversal(payment.reference), {
          paymentReference: payment.reference, code, message, amount: payment.amount, currency: payment.currency,
          status: 'open', createdAt: this.at, attempts: 0,
        } satisfies ReversalRecord);
        this.reversals.push(payment.reference);
        this.applied++;
        return;
      case 'failed':
        return;
    }
  }

  /** The first collection of a mandate failed: the next one is a first collection again. */
  private async releaseMandate(payment: PaymentRecord): Promise<void> {
    const key = keys.mandate(payment.sepa!.creditorId, payment.sepa!.mandateReference);
    const mandate = await this.tx.get<{ first?: string; uses: number }>(key);
    if (!mandate) return;
    await this.tx.put(key, { ...(mandate.first === payment.reference ? {} : { first: mandate.first }), uses: Math.max(0, mandate.uses - 1) });
  }

  /** A booking of one entry: a debit is credited to us, a refund debited from us. */
  async settle(entry: Entry, direction: StatusItem['direction'], amount?: number): Promise<boolean> {
    const { record } = entry;
    if (record.status !== 'submitted') return record.status === 'succeeded';
    if (direction !== (entry.kind === 'payment' ? 'CRDT' : 'DBIT') || (amount !== undefined && amount !== record.amount)) return false;
    record.status = 'succeeded';
    await this.finish(entry, { kind: entry.kind, reference: record.reference, status: 'succeeded' });
    return true;
  }

  async booking(item: StatusItem): Promise<void> {
    if (item.status !== 'BOOK') return void this.unmatched++;
    if (!item.batch) {
      const entry = await this.entry(item);
      if (!entry || !(await this.settle(entry, item.direction, item.amount))) this.unmatched++;
      return;
    }
    const fileId = item.batch.paymentInfoId ? await this.tx.get<string>(keys.batch(item.batch.paymentInfoId)) : undefined;
    const file = fileId ? await this.tx.get<FileRecord>(keys.file(fileId)) : undefined;
    const batch = file?.batches.find((candidate) => candidate.id === item.batch!.paymentInfoId);
    if (!batch) return void this.unmatched++;
    // A batch booked as one sum settles what is still open in it, and only if the sum is exactly theirs.
    const entries: Entry[] = [];
    for (const reference of batch.references) {
      const found = await this.entry({ ...item, endToEndId: reference });
      if (found && found.record.status === 'submitted') entries.push(found);
    }
    const open = entries.reduce((sum, entry) => sum + entry.record.amount, 0);
    if (entries.length === 0 || open !== item.amount) return void this.unmatched++;
    for (const entry of entries) await this.settle(entry, item.direction);
  }

  /** Files whose every entry has its outcome drop their sealed bytes; the hash stays. */
  async closeFiles(): Promise<void> {
    for (const [id, count] of this.closed) await closeEntries(this.tx, id, count);
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export async function ingestStatusFile(deps: IngestDeps, file: { name: string; content: string; via: 'inbox' | 'upload' }): Promise<IngestResult> {
  const { state, now, logger } = deps;
  const id = sha256(file.content);
  const known = await state.get<InboundRecord>(keys.inbound(id));
  if (known) return { ...known, duplicate: true, outcomes: [], reversals: [] };
  const report = parseStatusFile(file.content);
  const at = new Date(now()).toISOString();
  return state.transaction(async (tx) => {
    const again = await tx.get<InboundRecord>(keys.inbound(id));
    if (again) return { ...again, duplicate: true, outcomes: [], reversals: [] };
    const application = new Application(tx, at, (record) => achSettled(deps.settings, record, now()));
    for (const item of report.items.filter((candidate) => candidate.kind === 'return')) await application.returned(item);
    for (const item of report.items.filter((candidate) => candidate.kind === 'booking')) await application.booking(item);
    await application.closeFiles();
    const record: InboundRecord = {
      id,
      name: file.name.slice(0, 200),
      format: report.format,
      receivedAt: at,
      via: file.via,
      items: report.items.length,
      applied: application.applied,
      unmatched: application.unmatched,
    };
    await tx.put(keys.inbound(id), record);
    logger.info({ status_file: id, format: report.format, via: file.via, items: record.items, applied: record.applied, unmatched: record.unmatched }, 'bank status file applied');
    return { ...record, duplicate: false, outcomes: application.outcomes, reversals: application.reversals };
  });
}
