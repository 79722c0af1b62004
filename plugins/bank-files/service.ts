import { and, eq } from 'drizzle-orm';
import { schema, type Database } from '../../db';
import { BANK_FILES_ID, type BankFilesOperator, type IngestResult } from '../../processors/bank-files/index.ts';
import type { WebhookEvent } from '../../processors/sdk/index.ts';
import { ApiError } from '../../runtime/errors';
import type { Logger } from '../../runtime/logger';
import type { PaymentsService } from '../payments';

/**
 * What the bank-files plugin does with the connector's operator:
 * - outcomes the bank reported become signed callbacks into the payments layer's own
 *   callback handler (in-process, so it works in `nimbus worker` too): one path for
 *   every status change, deduped, with its events and webhooks;
 * - returns after settlement become refunds through the payments layer (API.md has no
 *   `returned` status): `refund.created` and `refund.succeeded`, the bank's code in the
 *   refund's metadata (processors/bank-files/README.md).
 * A lost callback or an unfinished reversal is retried: callbacks by reconciliation
 * (`sync` answers from the same state), reversals at the next tick.
 */

export type TickReport = { files: number; delivered: number; statusFiles: number; outcomes: number; reversals: number };

export type BankFilesServiceDeps = { operator: BankFilesOperator; payments: PaymentsService; database: Database; logger: Logger };

export function createBankFilesService({ operator, payments, database, logger }: BankFilesServiceDeps) {
  async function dispatch(events: readonly WebhookEvent[]): Promise<number> {
    let applied = 0;
    for (const event of events) {
      try {
        const outcome = await payments.callbacks.handle(BANK_FILES_ID, operator.callback(event));
        if (outcome === 'applied') applied++;
      } catch (error) {
        // Reconciliation asks `sync`, which answers from the same state: nothing is lost.
        logger.warn({ reference: event.reference, kind: event.kind, error: error instanceof Error ? error.name : 'Error' }, 'bank-files outcome not applied now; reconciliation will');
      }
    }
    return applied;
  }

  async function paymentOf(reference: string): Promise<{ id: string; tenantId: string } | undefined> {
    const p = schema.payments;
    const [row] = await database.system((tx) =>
      tx.select({ id: p.id, tenantId: p.tenantId }).from(p).where(and(eq(p.processor, BANK_FILES_ID), eq(p.processorReference, reference))).limit(1),
    );
    return row;
  }

  /** One return after settlement -> one refund, paid by the return itself (the connector answers it at once). */
  async function reverse(reversal: Awaited<ReturnType<BankFilesOperator['openReversals']>>[number]): Promise<boolean> {
    const reference = reversal.paymentReference;
    if (!(await operator.claimReversal(reference))) return false;
    const payment = await paymentOf(reference);
    if (!payment) {
      await operator.settleReversal(reference, { done: false, note: 'payment not found yet' });
      return false;
    }
    const metadata = { bank_return_code: reversal.code, bank_return_reason: reversal.message.slice(0, 500), bank_reversal: 'returned_after_settlement' };
    for (const amount of [reversal.amount, undefined]) {
      try {
        const refund = await payments.refunds.create(payment.tenantId, { payment: payment.id, ...(amount ? { amount } : {}), metadata });
        await operator.settleReversal(reference, { done: true, refund: refund.id });
        logger.info({ payment_id: payment.id, refund_id: refund.id, code: reversal.code }, 'bank return after settlement recorded as a refund');
        return true;
      } catch (error) {
        const code = error instanceof ApiError ? error.code : undefined;
        // Merchant refunds already took part of it: record what remains, then stop.
        if (code === 'refund_exceeds_captured' && amount !== undefined) continue;
        if (code === 'refund_exceeds_captured') {
          await operator.settleReversal(reference, { done: true, note: 'fully refunded before the return arrived' });
          logger.warn({ payment_id: payment.id, code: reversal.code }, 'bank return after settlement of a payment already refunded: check for a double payout');
          return false;
        }
        // Typically the payment is not `succeeded` here yet (its callback still on the way): next tick.
        await operator.settleReversal(reference, { done: false, note: code ?? 'error' });
        logger.warn({ payment_id: payment.id, reason: code ?? (error instanceof Error ? error.name : 'Error') }, 'bank return after settlement not recorded yet; retried');
        return false;
      }
    }
    return false;
  }

  async function reverseAll(): Promise<number> {
    let done = 0;
    for (const reversal of await operator.openReversals()) if (await reverse(reversal)) done++;
    return done;
  }

  async function afterIngest(results: readonly IngestResult[]): Promise<void> {
    await dispatch(operator.events(results.flatMap((result) => result.outcomes)));
    if (results.some((result) => result.reversals.length > 0)) await reverseAll();
  }

  /** One pass of the worker: due cut-offs, deliveries, status files, the calendar, reversals. */
  async function tick(at?: Date): Promise<TickReport> {
    const files = await operator.runDueCutoffs(at);
    const delivered = await operator.deliverFiles();
    const read = await operator.receiveFiles();
    const settled = await operator.settleDue(at);
    const events = operator.events([...read.flatMap((result) => result.outcomes), ...settled]);
    await dispatch(events);
    const reversals = await reverseAll();
    return { files: files.length, delivered: delivered.length, statusFiles: read.length, outcomes: events.length, reversals };
  }

  /** A status file uploaded by support: read like one from the inbox, applied at once. */
  async function upload(name: string, content: string): Promise<IngestResult> {
    const result = await operator.ingest(name, content, 'upload');
    await afterIngest([result]);
    return result;
  }

  return { operator, tick, upload, dispatch, reverseAll };
}

export type BankFilesService = ReturnType<typeof createBankFilesService>;
