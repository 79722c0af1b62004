import { and, eq, isNull } from 'drizzle-orm';
import { schema } from '../../../db';
import type { CancellationReason } from '../model';
import { ApiError, parameterInvalid, resourceMissing, unexpectedState } from '../../../runtime/errors';
import { processorUnavailable } from './authorization';
import { processorKeys, type PaymentsContext } from './context';
import { wrongState } from './payments';
import type { PaymentRow } from './resource';

/**
 * Capture and cancel of an authorization. API.md allows no intermediate status between
 * requires_capture and succeeded/canceled, so the claim is `pending_action` instead: set
 * under a row lock before the processor call, cleared by the commit. A second capture or
 * cancel meanwhile is a 409; an unknown outcome leaves the claim for reconciliation.
 */

export type CancelReason = CancellationReason | 'automatic';

function processorRefused(message: string): ApiError {
  return unexpectedState('payment_unexpected_state', `The processor refused: ${message}`);
}

export function createCaptureCancel(ctx: PaymentsContext) {
  const { database, store } = ctx;
  const pending = (action: 'capture' | 'cancel') => eq(schema.payments.pendingAction, action);

  async function releaseClaim(row: PaymentRow, action: 'capture' | 'cancel'): Promise<void> {
    await database.tenant(row.tenantId, (tx) =>
      store.patchPayment(tx, row.id, { pendingAction: null, pendingAmount: null, nextSyncAt: null }, pending(action)),
    );
  }

  /** Commits a capture the processor confirmed (also used by reconciliation). */
  function commitCapture(row: PaymentRow, amountCaptured: number): Promise<PaymentRow | undefined> {
    return database.tenant(row.tenantId, (tx) =>
      store.transition(tx, row.id, {
        to: 'succeeded',
        from: ['requires_capture'],
        where: pending('capture'),
        set: { amountReceived: amountCaptured, amountCapturable: 0, pendingAction: null, pendingAmount: null, captureBefore: null, nextSyncAt: null },
      }),
    );
  }

  /** Asks the processor to capture what the claim names; commits unless the outcome is unknown. */
  async function sendCapture(row: PaymentRow): Promise<PaymentRow> {
    const amount = row.pendingAmount ?? row.amountCapturable;
    const processor = row.processor ? ctx.registry.processor(row.processor) : undefined;
    if (!processor || !row.processorReference) throw new Error(`payment ${row.id} has no processor reference to capture`);
    const outcome = await ctx.caller.call(processor, 'capture', {
      idempotencyKey: processorKeys.capture(row.id),
      reference: row.processorReference,
      amount,
      currency: row.currency,
    });
    switch (outcome.kind) {
      case 'result':
        if (outcome.value.status === 'failed') {
          await releaseClaim(row, 'capture');
          throw processorRefused(outcome.value.message);
        }
        return (await commitCapture(row, outcome.value.amountCaptured)) ?? row;
      case 'unknown':
        if (outcome.reason === 'circuit_open') {
          await releaseClaim(row, 'capture');
          throw processorUnavailable();
        }
        // Maybe captured: the claim stays, reconciliation finds out.
        return row;
      case 'error':
        await releaseClaim(row, 'capture');
        throw processorUnavailable();
    }
  }

  /** POST /v1/payments/:id/capture. */
  async function capture(tenantId: string, id: string, amountToCapture?: number): Promise<PaymentRow> {
    const claimed = await database.tenant(tenantId, async (tx) => {
      const row = await store.findPayment(tx, id, { lock: true });
      if (!row) return undefined;
      if (row.status !== 'requires_capture' || row.pendingAction !== null) wrongState(row, 'capture');
      const amount = amountToCapture ?? row.amountCapturable;
      if (amount > row.amountCapturable) {
        throw parameterInvalid('amount_to_capture', `amount_to_capture must be less than or equal to amount_capturable (${row.amountCapturable}).`);
      }
      return store.patchPayment(tx, id, { pendingAction: 'capture', pendingAmount: amount, nextSyncAt: ctx.after(ctx.config.reconcileAfterMs) });
    });
    if (!claimed) throw resourceMissing('payment', id);
    return sendCapture(claimed);
  }

  /** Commits a cancel of an authorization (also used by reconciliation and expiry). */
  function commitCancel(row: PaymentRow, reason: CancelReason | null): Promise<PaymentRow | undefined> {
    return database.tenant(row.tenantId, (tx) =>
      store.transition(tx, row.id, {
        to: 'canceled',
        from: ['requires_capture'],
        where: pending('cancel'),
        set: { amountCapturable: 0, pendingAction: null, pendingAmount: null, captureBefore: null, nextSyncAt: null, cancellationReason: reason },
      }),
    );
  }

  /**
   * Releases an authorization at the processor, then commits `canceled`. Only an explicit
   * refusal keeps the payment: an unanswered cancel still ends canceled, since a hold
   * nobody captures lapses by itself and no money moves.
   */
  async function sendCancel(row: PaymentRow, reason: CancelReason | null): Promise<PaymentRow> {
    const processor = row.processor ? ctx.registry.processor(row.processor) : undefined;
    if (processor && row.processorReference) {
      const outcome = await ctx.caller.call(processor, 'cancel', {
        idempotencyKey: processorKeys.cancel(row.id),
        reference: row.processorReference,
        ...(reason ? { reason } : {}),
      });
      if (outcome.kind === 'result' && outcome.value.status === 'failed') {
        await releaseClaim(row, 'cancel');
        throw processorRefused(outcome.value.message);
      }
    }
    return (await commitCancel(row, reason)) ?? (await database.tenant(row.tenantId, (tx) => store.findPayment(tx, row.id)))!;
  }

  /** Claims an authorization for cancel under a row lock; undefined if it is no longer one. */
  async function claimCancel(tenantId: string, id: string, reason: CancelReason | null): Promise<PaymentRow | undefined> {
    return database.tenant(tenantId, (tx) =>
      store.patchPayment(
        tx,
        id,
        { pendingAction: 'cancel', cancellationReason: reason, nextSyncAt: ctx.after(ctx.config.reconcileAfterMs) },
        and(eq(schema.payments.status, 'requires_capture'), isNull(schema.payments.pendingAction)),
      ),
    );
  }

  /** POST /v1/payments/:id/cancel: from requires_confirmation (nothing at the processor) or requires_capture. */
  async function cancel(tenantId: string, id: string, reason?: CancellationReason): Promise<PaymentRow> {
    const cancellationReason = reason ?? null;
    const outcome = await database.tenant(tenantId, async (tx) => {
      const row = await store.findPayment(tx, id, { lock: true });
      if (!row) return { kind: 'missing' as const };
      switch (row.status) {
        case 'requires_confirmation': {
          const canceled = await store.transition(tx, id, { to: 'canceled', from: ['requires_confirmation'], set: { cancellationReason, methodVault: null } });
          return { kind: 'done' as const, row: canceled! };
        }
        case 'requires_capture':
          if (row.pendingAction !== null) wrongState(row, 'cancel');
          return { kind: 'claimed' as const, row: (await store.patchPayment(tx, id, { pendingAction: 'cancel', cancellationReason, nextSyncAt: ctx.after(ctx.config.reconcileAfterMs) }))! };
        case 'processing':
        case 'succeeded':
        case 'failed':
        case 'canceled':
          return wrongState(row, 'cancel');
        default:
          throw new Error(`unknown payment status ${row.status}`);
      }
    });
    switch (outcome.kind) {
      case 'missing':
        throw resourceMissing('payment', id);
      case 'done':
        return outcome.row;
      case 'claimed':
        return sendCancel(outcome.row, cancellationReason);
    }
  }

  return { capture, cancel, sendCapture, sendCancel, claimCancel, commitCapture, commitCancel };
}

export type CaptureCancel = ReturnType<typeof createCaptureCancel>;
