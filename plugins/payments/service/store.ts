import { and, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { schema, type Tx } from '../../../db';
import type { PaymentStatus, RefundStatus } from '../model';
import type { EventLog } from '../../../runtime/events';
import type { Metrics } from '../../../runtime/metrics';
import { paymentResource, refundResource, type PaymentRow, type RefundRow } from './resource';
import { canTransition, eventFor, isFinal, sourcesOf } from './state-machine';

/**
 * The SQL of payments and refunds. Every status change is one guarded UPDATE
 * (`WHERE status IN (allowed sources)`) whose returned row proves this caller won; the
 * event for the new status is written in the same transaction, from that row.
 *
 * Every statement names its tenant (`tenant_id = $tenant`): that predicate is the first
 * layer of tenant isolation, row-level security the second, and without it PostgreSQL
 * cannot use the `(tenant_id, ...)` indexes. Callers running as the system (workers,
 * processor callbacks) pass the tenant of the row they are working on.
 */

const payments = schema.payments;
const refunds = schema.refunds;
const paymentOf = (tenantId: string, id: string) => and(eq(payments.tenantId, tenantId), eq(payments.id, id));
const refundOf = (tenantId: string, id: string) => and(eq(refunds.tenantId, tenantId), eq(refunds.id, id));

export type PaymentPatch = Partial<typeof schema.payments.$inferInsert>;
export type RefundPatch = Partial<typeof schema.refunds.$inferInsert>;

export interface PaymentTransition {
  to: PaymentStatus;
  /** Defaults to every status API.md allows into `to`; narrower lists guard internal steps. */
  from?: PaymentStatus[];
  set?: PaymentPatch;
  where?: SQL;
  /** For `processing`: write `payment.processing` now (else the claim stays silent). */
  announce?: boolean;
}

export function createPaymentStore(deps: { metrics: Metrics; events: EventLog }) {
  const { events } = deps;
  function countPayment(row: PaymentRow): void {
    if (!isFinal(row.status as PaymentStatus)) return;
    deps.metrics.paymentsTotal.inc({ method: row.methodType, processor: row.processor ?? 'none', status: row.status });
  }

  async function paymentEvent(tx: Tx, row: PaymentRow, type: NonNullable<ReturnType<typeof eventFor>> | 'payment.created') {
    await events.record(tx, { tenantId: row.tenantId, type, objectId: row.id, object: paymentResource(row) });
  }

  /**
   * Inserts a payment with its `payment.created` event. A payment confirmed on creation
   * is inserted already `processing` (one statement instead of an insert and a claim),
   * but it was created before it was confirmed: `payment.created` shows it as created,
   * in `requires_confirmation`, and entering `processing` is announced (or stays silent)
   * like any claim, so the event sequence is the one API.md describes.
   */
  async function insertPayment(tx: Tx, values: typeof schema.payments.$inferInsert): Promise<PaymentRow> {
    const status = values.status as PaymentStatus;
    if (status !== 'requires_confirmation' && !canTransition('requires_confirmation', status)) {
      throw new Error(`a payment cannot be created in status ${status}`);
    }
    const [row] = await tx.insert(schema.payments).values(values).returning();
    await paymentEvent(tx, { ...row!, status: 'requires_confirmation' }, 'payment.created');
    return row!;
  }

  async function findPayment(tx: Tx, tenantId: string, id: string, options: { lock?: boolean } = {}): Promise<PaymentRow | undefined> {
    const query = tx.select().from(payments).where(paymentOf(tenantId, id)).limit(1);
    const [row] = options.lock ? await query.for('update') : await query;
    return row;
  }

  /** Applies one transition if the payment is still in an allowed status; undefined if another request won. */
  async function transition(tx: Tx, tenantId: string, id: string, change: PaymentTransition): Promise<PaymentRow | undefined> {
    const from = change.from ?? sourcesOf(change.to);
    const announce = change.to !== 'processing' || change.announce === true;
    const [row] = await tx
      .update(schema.payments)
      .set({
        ...change.set,
        status: change.to,
        ...(change.to === 'processing' && announce ? { processingAnnounced: true } : {}),
        updatedAt: sql`now()`,
      })
      .where(and(paymentOf(tenantId, id), inArray(payments.status, from), change.where))
      .returning();
    if (!row) return undefined;
    const type = eventFor(change.to);
    if (type && announce) await paymentEvent(tx, row, type);
    countPayment(row);
    return row;
  }

  /** Writes `payment.processing` for a payment whose in-flight claim turned out to last (pending, unknown, crash). */
  async function announceProcessing(tx: Tx, tenantId: string, id: string, set: PaymentPatch = {}): Promise<PaymentRow | undefined> {
    const [row] = await tx
      .update(schema.payments)
      .set({ ...set, processingAnnounced: true, updatedAt: sql`now()` })
      .where(and(paymentOf(tenantId, id), eq(payments.status, 'processing'), eq(payments.processingAnnounced, false)))
      .returning();
    if (row) await paymentEvent(tx, row, 'payment.processing');
    return row;
  }

  /** Changes bookkeeping columns without a status change (no event). */
  async function patchPayment(tx: Tx, tenantId: string, id: string, set: PaymentPatch, where?: SQL): Promise<PaymentRow | undefined> {
    const [row] = await tx
      .update(schema.payments)
      .set({ ...set, updatedAt: sql`now()` })
      .where(and(paymentOf(tenantId, id), where))
      .returning();
    return row;
  }

  async function insertRefund(tx: Tx, values: typeof schema.refunds.$inferInsert): Promise<RefundRow> {
    const [row] = await tx.insert(schema.refunds).values(values).returning();
    await events.record(tx, { tenantId: row!.tenantId, type: 'refund.created', objectId: row!.id, object: refundResource(row!) });
    return row!;
  }

  async function findRefund(tx: Tx, tenantId: string, id: string, options: { lock?: boolean } = {}): Promise<RefundRow | undefined> {
    const query = tx.select().from(refunds).where(refundOf(tenantId, id)).limit(1);
    const [row] = options.lock ? await query.for('update') : await query;
    return row;
  }

  /**
   * pending -> succeeded | failed, once. A succeeded refund adds to the payment's
   * amount_refunded in the same transaction; the event snapshot is the refund.
   */
  async function settleRefund(
    tx: Tx,
    tenantId: string,
    id: string,
    to: Exclude<RefundStatus, 'pending'>,
    set: RefundPatch = {},
  ): Promise<RefundRow | undefined> {
    const [row] = await tx
      .update(schema.refunds)
      .set({ ...set, status: to, nextSyncAt: null, updatedAt: sql`now()` })
      .where(and(refundOf(tenantId, id), eq(refunds.status, 'pending')))
      .returning();
    if (!row) return undefined;
    if (to === 'succeeded') {
      await tx
        .update(schema.payments)
        .set({ amountRefunded: sql`${schema.payments.amountRefunded} + ${row.amount}`, updatedAt: sql`now()` })
        .where(paymentOf(tenantId, row.paymentId));
    }
    await events.record(tx, { tenantId: row.tenantId, type: `refund.${to}`, objectId: row.id, object: refundResource(row) });
    deps.metrics.refundsTotal.inc({ status: to });
    return row;
  }

  async function patchRefund(tx: Tx, tenantId: string, id: string, set: RefundPatch): Promise<RefundRow | undefined> {
    const [row] = await tx
      .update(schema.refunds)
      .set({ ...set, updatedAt: sql`now()` })
      .where(refundOf(tenantId, id))
      .returning();
    return row;
  }

  /** What is already promised back to the customer: pending and succeeded refunds. */
  async function refundedOrPending(tx: Tx, tenantId: string, paymentId: string): Promise<number> {
    const [row] = await tx
      .select({ total: sql<string>`coalesce(sum(${schema.refunds.amount}), 0)` })
      .from(schema.refunds)
      .where(and(eq(refunds.tenantId, tenantId), eq(refunds.paymentId, paymentId), inArray(refunds.status, ['pending', 'succeeded'])));
    return Number(row?.total ?? 0);
  }

  return {
    insertPayment,
    findPayment,
    transition,
    announceProcessing,
    patchPayment,
    insertRefund,
    findRefund,
    settleRefund,
    patchRefund,
    refundedOrPending,
  };
}

export type PaymentStore = ReturnType<typeof createPaymentStore>;
