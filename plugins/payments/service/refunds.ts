import { eq } from 'drizzle-orm';
import { readById, schema, type Tx } from '../../../db';
import type { CallOutcome, RefundResult } from '../../../processors/sdk/index.ts';
import type { RequestCommit } from '../../../runtime/unit-of-work';
import type { IdempotentRequest } from '../../idempotency';
import type { CreateRefundBody } from '../model';
import { resourceMissing, unexpectedState } from '../../../runtime/errors';
import { randomId } from '../../../runtime/ids';
import { listTenantPage, parseListQuery } from '../../../runtime/pagination';
import { processorKeys, type PaymentsContext } from './context';
import { firstCommit } from './first-commit';
import { assertMetadata } from './payments';
import type { PaymentRow, RefundRow } from './resource';
import { applyRefundUpdate } from './updates';

/** The request's own writes (answer, audit row), in the transaction that commits the refund's outcome. */
export type RefundFinish = RequestCommit<RefundRow>;

/**
 * Refunds. The amount check and the insert share one transaction holding the payment's
 * row lock, so concurrent refunds queue on it and the sum of pending and succeeded
 * refunds can never pass amount_received. The processor is called after that commit;
 * `refund.created` (pending) is always written before the outcome's event.
 */
export function createRefundOperations(ctx: PaymentsContext) {
  const { database, store } = ctx;

  /**
   * POST /v1/refunds. The request's Idempotency-Key is claimed with the new refund bound
   * to it, in the refund's own transaction, so a retry after a 5xx resumes that refund
   * (same processor-side key) instead of creating and sending a second one. Two commits:
   * the refund with `refund.created`, then its outcome with the request's answer.
   */
  async function create(tenantId: string, body: CreateRefundBody, idempotency?: IdempotentRequest, finish?: RefundFinish): Promise<RefundRow> {
    assertMetadata(body.metadata);
    const id = randomId('re');
    const opened = await firstCommit(ctx, tenantId, idempotency, id, async (tx) => {
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
      const refund = await store.insertRefund(tx, {
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
      return { refund, payment };
    });
    if (opened.kind === 'resume') return resume(tenantId, opened.resourceId, finish);
    return sendRefund(opened.result.refund, finish, opened.result.payment);
  }

  /**
   * A retry whose key is bound to a refund: answers that refund. One still waiting for
   * its processor answer is asked about (same processor-side key) and sent again only if
   * the processor never received it.
   */
  async function resume(tenantId: string, id: string, finish?: RefundFinish): Promise<RefundRow> {
    const refund = await database.tenant(tenantId, (tx) => store.findRefund(tx, tenantId, id));
    if (!refund) throw new Error(`idempotency key bound to refund ${id}, which does not exist`);
    const processor = ctx.registry.processor(refund.processor);
    const open = refund.status === 'pending' && !refund.processorReference && processor;
    const outcome = open ? await ctx.caller.call(processor, 'sync', { kind: 'refund', idempotencyKey: processorKeys.refund(id) }) : undefined;
    if (outcome?.kind === 'result' && (outcome.value.status === 'not_found' || outcome.value.kind !== 'refund')) return sendRefund(refund, finish);
    const row = await database.tenant(tenantId, async (tx) => {
      const locked = await store.findRefund(tx, tenantId, id, { lock: true });
      const known = outcome?.kind === 'result' ? outcome.value : undefined;
      if (locked && known && known.kind === 'refund' && known.status !== 'not_found') await applyRefundUpdate(ctx, tx, locked, known);
      const row = (await store.findRefund(tx, tenantId, id))!;
      await finish?.write(tx, row);
      return row;
    });
    finish?.committed();
    return row;
  }

  /**
   * Sends (or re-sends, same idempotency key) a pending refund and commits what the
   * processor says, with the call's record and the request's answer (`finish`).
   * `payment`: the refunded payment when the caller has it at hand (else it is read).
   */
  async function sendRefund(refund: RefundRow, finish?: RefundFinish, known?: PaymentRow): Promise<RefundRow> {
    const { tenantId } = refund;
    const payment = known ?? (await database.tenant(tenantId, (tx) => store.findPayment(tx, tenantId, refund.paymentId)));
    const processor = ctx.registry.processor(refund.processor);
    const held = ctx.attempts.hold(processorKeys.refund(refund.id));
    let recorded = false;
    try {
      const outcome =
        payment?.processorReference && processor
          ? await ctx.caller.call(processor, 'refund', {
              idempotencyKey: processorKeys.refund(refund.id),
              reference: payment.processorReference,
              amount: refund.amount,
              currency: refund.currency,
              ...(refund.reason ? { reason: refund.reason } : {}),
            })
          : undefined;
      const row = await database.tenant(tenantId, async (tx) => {
        const changed = await applyOutcome(tx, refund, outcome);
        const row = changed ?? (await store.findRefund(tx, tenantId, refund.id)) ?? refund;
        await Promise.all([held.write(tx, { tenantId, paymentId: refund.paymentId, refundId: refund.id }), finish?.write(tx, row)]);
        return row;
      });
      recorded = true;
      finish?.committed();
      return row;
    } finally {
      held.release(recorded);
    }
  }

  /** What the processor said, applied to the refund (undefined: nothing to change). `outcome` undefined: nobody could be asked. */
  function applyOutcome(tx: Tx, refund: RefundRow, outcome: CallOutcome<RefundResult> | undefined): Promise<RefundRow | undefined> {
    const { tenantId } = refund;
    if (!outcome) {
      const failure = { code: 'processing_error', message: 'The payment has no processor to refund it.' };
      return store.settleRefund(tx, tenantId, refund.id, 'failed', { failure });
    }
    switch (outcome.kind) {
      case 'result': {
        const result = outcome.value;
        switch (result.status) {
          case 'succeeded':
            return store.settleRefund(tx, tenantId, refund.id, 'succeeded', { processorReference: result.reference });
          case 'failed':
            return store.settleRefund(tx, tenantId, refund.id, 'failed', {
              processorReference: result.reference,
              failure: { code: result.code, message: result.message },
            });
          case 'pending':
            // Settles later: by callback, or reconciliation after the threshold.
            return store.patchRefund(tx, tenantId, refund.id, { processorReference: result.reference, nextSyncAt: ctx.after(ctx.config.reconcileAfterMs) });
        }
        return Promise.resolve(undefined);
      }
      case 'unknown':
        // Unknown outcome: stays pending; reconciliation asks with the same key.
        return Promise.resolve(undefined);
      case 'error':
        // Refused, nothing happened at the processor; refunds cannot fail over (the money sits there).
        return store.settleRefund(tx, tenantId, refund.id, 'failed', {
          failure: { code: 'processing_error', message: 'The processor could not process the refund.' },
        });
    }
  }

  async function retrieve(tenantId: string, id: string): Promise<RefundRow> {
    const row = await readById(database, schema.refunds, tenantId, id);
    if (!row) throw resourceMissing('refund', id);
    return row;
  }

  async function list(tenantId: string, query: Record<string, unknown>) {
    const params = parseListQuery(query);
    const payment = query.payment;
    if (payment !== undefined) {
      if (typeof payment !== 'string' || !(await readById(database, schema.payments, tenantId, payment))) {
        throw resourceMissing('payment', String(payment), 'payment');
      }
    }
    return listTenantPage<RefundRow>(database, schema.refunds, tenantId, {
      params,
      filters: payment === undefined ? [] : [eq(schema.refunds.paymentId, payment)],
      kind: 'refund',
    });
  }

  return { create, sendRefund, retrieve, list };
}

export type RefundOperations = ReturnType<typeof createRefundOperations>;
