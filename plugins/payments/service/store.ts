import { and, eq, inArray, sql } from 'drizzle-orm';
import { schema, type Tx } from '../../../db';
import { insertPaymentRow, newPaymentRow, selectPayment, updatePayment, type PaymentGuard, type PaymentPatch, type PaymentValues } from './payment-sql';
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

const refunds = schema.refunds;
const paymentOf = (tenantId: string, id: string) => and(eq(schema.payments.tenantId, tenantId), eq(schema.payments.id, id));
const refundOf = (tenantId: string, id: string) => and(eq(refunds.tenantId, tenantId), eq(refunds.id, id));

export type { PaymentGuard, PaymentPatch } from './payment-sql';
export type RefundPatch = Partial<typeof schema.refunds.$inferInsert>;

/** What else the transaction writes once the changed row is known: sent with its event, not after it. */
export type AlsoWrite = (row: PaymentRow) => Promise<unknown>;

export interface PaymentTransition {
  to: PaymentStatus;
  /** Defaults to every status API.md allows into `to`; narrower lists guard internal steps. */
  from?: PaymentStatus[];
  set?: PaymentPatch;
  /** Further conditions (a pending capture or cancel, ...). */
  guard?: Omit<PaymentGuard, 'from'>;
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
   * like any claim, so the event sequence is the one API.md describes. The row is
   * complete before it is written (its times are this process's clock), so the insert,
   * the event and its outbox rows go out together.
   */
  async function insertPayment(tx: Tx, values: PaymentValues): Promise<PaymentRow> {
    const status = values.status as PaymentStatus;
    if (status !== 'requires_confirmation' && !canTransition('requires_confirmation', status)) {
      throw new Error(`a payment cannot be created in status ${status}`);
    }
    const row = newPaymentRow(values, new Date());
    const [inserted] = await Promise.all([insertPaymentRow(tx, row), paymentEvent(tx, { ...row, status: 'requires_confirmation' }, 'payment.created')]);
    return inserted;
  }

  function findPayment(tx: Tx, tenantId: string, id: string, options: { lock?: boolean } = {}): Promise<PaymentRow | undefined> {
    return selectPayment(tx, tenantId, id, options.lock ?? false);
  }

  /**
   * Applies one transition if the payment is still in an allowed status; undefined if
   * another request won. `also` runs once the row is known, alongside its event.
   */
  async function transition(tx: Tx, tenantId: string, id: string, change: PaymentTransition, also?: AlsoWrite): Promise<PaymentRow | undefined> {
    const from = change.from ?? sourcesOf(change.to);
    const announce = change.to !== 'processing' || change.announce === true;
    const set: PaymentPatch = { ...change.set, status: change.to, ...(change.to === 'processing' && announce ? { processingAnnounced: true } : {}) };
    const row = await updatePayment(tx, tenantId, id, set, { ...change.guard, from });
    if (!row) return undefined;
    const type = eventFor(change.to);
    await Promise.all([type && announce ? paymentEvent(tx, row, type) : undefined, also?.(row)]);
    countPayment(row);
    return row;
  }

  /** Writes `payment.processing` for a payment whose in-flight claim turned out to last (pending, unknown, crash). */
  async function announceProcessing(tx: Tx, tenantId: string, id: string, set: PaymentPatch = {}, also?: AlsoWrite): Promise<PaymentRow | undefined> {
    const row = await updatePayment(tx, tenantId, id, { ...set, processingAnnounced: true }, { from: ['processing'], processingAnnounced: false });
    if (row) await Promise.all([paymentEvent(tx, row, 'payment.processing'), also?.(row)]);
    return row;
  }

  /** Changes bookkeeping columns without a status change (no event). */
  function patchPayment(tx: Tx, tenantId: string, id: string, set: PaymentPatch, guard?: PaymentGuard): Promise<PaymentRow | undefined> {
    return updatePayment(tx, tenantId, id, set, guard);
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
