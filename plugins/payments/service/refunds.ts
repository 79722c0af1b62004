import { eq } from 'drizzle-orm';
import { schema, type Tx } from '../../../db';
import type { IdempotentRequest } from '../../idempotency';
import type { CreateRefundBody } from '../model';
import { resourceMissing, unexpectedState } from '../../../runtime/errors';
import { randomId } from '../../../runtime/ids';
import { listPage, parseListQuery } from '../../../runtime/pagination';
import { processorKeys, type PaymentsContext } from './context';
import { assertMetadata } from './payments';
import { refundResource, type RefundRow } from './resource';
import { applyRefundUpdate } from './updates';

/** Runs in the transaction that commits the refund's outcome (the request's idempotent answer). */
type OnRefundCommit = (tx: Tx, row: RefundRow) => Promise<void>;

/**
 * Refunds. The amount check and the insert share one transaction holding the payment's
 * row lock, so concurrent refunds queue on it and the sum of pending and succeeded
 * refunds can never pass amount_received. The processor is called after that commit;
 * `refund.created` (pending) is always written before the outcome's event.
 */
export function createRefundOperations(ctx: PaymentsContext) {
  const { database, store } = ctx;

  /**
   * POST /v1/refunds. The request's Idempotency-Key is bound to the new refund in the
   * refund's own transaction, so a retry after a 5xx resumes that refund (same
   * processor-side key) instead of creating and sending a second one.
   */
  async function create(tenantId: string, body: CreateRefundBody, idempotency?: IdempotentRequest): Promise<RefundRow> {
    assertMetadata(body.metadata);
    const answer = idempotency && ((tx: Tx, row: RefundRow) => idempotency.complete(tx, { status: 201, body: JSON.stringify(refundResource(row)) }));
    if (idempotency?.resumeId) return resume(tenantId, idempotency.resumeId, answer);
    const id = randomId('re');
    const refund = await database.tenant(tenantId, async (tx) => {
      const payment = await store.findPayment(tx, tenantId, body.payment, { lock: true });
      if (!payment) throw resourceMissing('payment', body.payment, 'payment');
      if (payment.status !== 'succeeded') {
        throw unexpectedState('payment_unexpected_state', `You cannot refund this payment because it has a status of ${payment.status}.`);
      }
      const remaining = payment.amountReceived - (await store.refundedOrPending(tx, tenantId, payment.id));
      const amount = body.amount ?? remaining;
      if (remaining <= 0 || amount > remaining) {
        throw unexpectedState(
          'refund_exceeds_captured',
          remaining <= 0
            ? 'This payment has already been fully refunded.'
            : `The refund amount (${amount}) exceeds what remains refundable (${remaining}).`,
        );
      }
      await idempotency?.bind(tx, id);
      return store.insertRefund(tx, {
        id,
        tenantId,
        paymentId: payment.id,
        amount,
        currency: payment.currency,
        status: 'pending',
        reason: body.reason ?? null,
        metadata: body.metadata ?? {},
        processor: payment.processor!,
        // Asked again by reconciliation if this process dies before the outcome is stored.
        nextSyncAt: ctx.after(ctx.config.reconcileAfterMs),
      });
    });
    return sendRefund(refund, answer);
  }

  /**
   * A retry whose key is bound to a refund: answers that refund. One still waiting for
   * its processor answer is asked about (same processor-side key) and sent again only if
   * the processor never received it.
   */
  async function resume(tenantId: string, id: string, answer?: OnRefundCommit): Promise<RefundRow> {
    const refund = await database.tenant(tenantId, (tx) => store.findRefund(tx, tenantId, id));
    if (!refund) throw new Error(`idempotency key bound to refund ${id}, which does not exist`);
    const processor = ctx.registry.processor(refund.processor);
    const open = refund.status === 'pending' && !refund.processorReference && processor;
    const outcome = open ? await ctx.caller.call(processor, 'sync', { kind: 'refund', idempotencyKey: processorKeys.refund(id) }) : undefined;
    if (outcome?.kind === 'result' && (outcome.value.status === 'not_found' || outcome.value.kind !== 'refund')) return sendRefund(refund, answer);
    return database.tenant(tenantId, async (tx) => {
      const locked = await store.findRefund(tx, tenantId, id, { lock: true });
      const known = outcome?.kind === 'result' ? outcome.value : undefined;
      if (locked && known && known.kind === 'refund' && known.status !== 'not_found') await applyRefundUpdate(ctx, tx, locked, known);
      const row = (await store.findRefund(tx, tenantId, id))!;
      await answer?.(tx, row);
      return row;
    });
  }

  /** Sends (or re-sends, same idempotency key) a pending refund and commits what the processor says. */
  async function sendRefund(refund: RefundRow, answer?: OnRefundCommit): Promise<RefundRow> {
    const { tenantId } = refund;
    const payment = await database.tenant(tenantId, (tx) => store.findPayment(tx, tenantId, refund.paymentId));
    const processor = ctx.registry.processor(refund.processor);
    if (!payment?.processorReference || !processor) {
      return database.tenant(tenantId, async (tx) => {
        const failure = { code: 'processing_error', message: 'The payment has no processor to refund it.' };
        const row = (await store.settleRefund(tx, tenantId, refund.id, 'failed', { failure })) ?? (await store.findRefund(tx, tenantId, refund.id)) ?? refund;
        await answer?.(tx, row);
        return row;
      });
    }
    const outcome = await ctx.caller.call(processor, 'refund', {
      idempotencyKey: processorKeys.refund(refund.id),
      reference: payment.processorReference,
      amount: refund.amount,
      currency: refund.currency,
      ...(refund.reason ? { reason: refund.reason } : {}),
    });
    return database.tenant(tenantId, async (tx) => {
      let changed: RefundRow | undefined;
      switch (outcome.kind) {
        case 'result': {
          const result = outcome.value;
          switch (result.status) {
            case 'succeeded':
              changed = await store.settleRefund(tx, tenantId, refund.id, 'succeeded', { processorReference: result.reference });
              break;
            case 'failed':
              changed = await store.settleRefund(tx, tenantId, refund.id, 'failed', {
                processorReference: result.reference,
                failure: { code: result.code, message: result.message },
              });
              break;
            case 'pending':
              // Settles later: by callback, or reconciliation after the threshold.
              changed = await store.patchRefund(tx, tenantId, refund.id, {
                processorReference: result.reference,
                nextSyncAt: ctx.after(ctx.config.reconcileAfterMs),
              });
              break;
          }
          break;
        }
        case 'unknown':
          // Unknown outcome: stays pending; reconciliation asks with the same key.
          break;
        case 'error':
          // Refused, nothing happened at the processor; refunds cannot fail over (the money sits there).
          changed = await store.settleRefund(tx, tenantId, refund.id, 'failed', {
            failure: { code: 'processing_error', message: 'The processor could not process the refund.' },
          });
          break;
      }
      const row = changed ?? (await store.findRefund(tx, tenantId, refund.id)) ?? refund;
      await answer?.(tx, row);
      return row;
    });
  }

  async function retrieve(tenantId: string, id: string): Promise<RefundRow> {
    const row = await database.tenant(tenantId, (tx) => store.findRefund(tx, tenantId, id));
    if (!row) throw resourceMissing('refund', id);
    return row;
  }

  async function list(tenantId: string, query: Record<string, unknown>) {
    const params = parseListQuery(query);
    const payment = query.payment;
    return database.tenant(tenantId, async (tx) => {
      if (payment !== undefined) {
        if (typeof payment !== 'string' || !(await store.findPayment(tx, tenantId, payment))) {
          throw resourceMissing('payment', String(payment), 'payment');
        }
      }
      return listPage<RefundRow>(tx, schema.refunds, {
        params,
        scope: eq(schema.refunds.tenantId, tenantId),
        filters: payment === undefined ? [] : [eq(schema.refunds.paymentId, payment as string)],
        kind: 'refund',
      });
    });
  }

  return { create, sendRefund, retrieve, list };
}

export type RefundOperations = ReturnType<typeof createRefundOperations>;
