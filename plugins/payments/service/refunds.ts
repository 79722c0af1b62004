import { eq } from 'drizzle-orm';
import { schema } from '../../../db';
import type { CreateRefundBody } from '../model';
import { resourceMissing, unexpectedState } from '../../../runtime/errors';
import { randomId } from '../../../runtime/ids';
import { listPage, parseListQuery } from '../../../runtime/pagination';
import { processorKeys, type PaymentsContext } from './context';
import { assertMetadata } from './payments';
import type { RefundRow } from './resource';

/**
 * Refunds. The amount check and the insert share one transaction holding the payment's
 * row lock, so concurrent refunds queue on it and the sum of pending and succeeded
 * refunds can never pass amount_received. The processor is called after that commit;
 * `refund.created` (pending) is always written before the outcome's event.
 */
export function createRefundOperations(ctx: PaymentsContext) {
  const { database, store } = ctx;

  async function create(tenantId: string, body: CreateRefundBody): Promise<RefundRow> {
    assertMetadata(body.metadata);
    const refund = await database.tenant(tenantId, async (tx) => {
      const payment = await store.findPayment(tx, body.payment, { lock: true });
      if (!payment) throw resourceMissing('payment', body.payment, 'payment');
      if (payment.status !== 'succeeded') {
        throw unexpectedState('payment_unexpected_state', `You cannot refund this payment because it has a status of ${payment.status}.`);
      }
      const remaining = payment.amountReceived - (await store.refundedOrPending(tx, payment.id));
      const amount = body.amount ?? remaining;
      if (remaining <= 0 || amount > remaining) {
        throw unexpectedState(
          'refund_exceeds_captured',
          remaining <= 0
            ? 'This payment has already been fully refunded.'
            : `The refund amount (${amount}) exceeds what remains refundable (${remaining}).`,
        );
      }
      return store.insertRefund(tx, {
        id: randomId('re'),
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
    return sendRefund(refund);
  }

  /** Sends (or re-sends, same idempotency key) a pending refund and commits what the processor says. */
  async function sendRefund(refund: RefundRow): Promise<RefundRow> {
    const { tenantId } = refund;
    const payment = await database.tenant(tenantId, (tx) => store.findPayment(tx, refund.paymentId));
    const processor = ctx.registry.processor(refund.processor);
    if (!payment?.processorReference || !processor) {
      return database.tenant(tenantId, async (tx) =>
        (await store.settleRefund(tx, refund.id, 'failed', { failure: { code: 'processing_error', message: 'The payment has no processor to refund it.' } })) ?? refund,
      );
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
              changed = await store.settleRefund(tx, refund.id, 'succeeded', { processorReference: result.reference });
              break;
            case 'failed':
              changed = await store.settleRefund(tx, refund.id, 'failed', {
                processorReference: result.reference,
                failure: { code: result.code, message: result.message },
              });
              break;
            case 'pending':
              // Settles later: by callback, or reconciliation after the threshold.
              changed = await store.patchRefund(tx, refund.id, {
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
          changed = await store.settleRefund(tx, refund.id, 'failed', {
            failure: { code: 'processing_error', message: 'The processor could not process the refund.' },
          });
          break;
      }
      return changed ?? (await store.findRefund(tx, refund.id)) ?? refund;
    });
  }

  async function retrieve(tenantId: string, id: string): Promise<RefundRow> {
    const row = await database.tenant(tenantId, (tx) => store.findRefund(tx, id));
    if (!row) throw resourceMissing('refund', id);
    return row;
  }

  async function list(tenantId: string, query: Record<string, unknown>) {
    const params = parseListQuery(query);
    const payment = query.payment;
    return database.tenant(tenantId, async (tx) => {
      if (payment !== undefined) {
        if (typeof payment !== 'string' || !(await store.findPayment(tx, payment))) {
          throw resourceMissing('payment', String(payment), 'payment');
        }
      }
      return listPage<RefundRow>(tx, schema.refunds, {
        params,
        filters: payment === undefined ? [] : [eq(schema.refunds.paymentId, payment as string)],
        kind: 'refund',
      });
    });
  }

  return { create, sendRefund, retrieve, list };
}

export type RefundOperations = ReturnType<typeof createRefundOperations>;
