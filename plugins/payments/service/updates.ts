import type { Tx } from '../../../db';
import type { PaymentFailure } from '../model';
import type { SyncResult } from '../../../processors/sdk/index.ts';
import type { PaymentsContext } from './context';
import type { PaymentRow, RefundRow } from './resource';

/**
 * Applies what a processor says about a payment or refund (a `sync` answer or a
 * verified callback) to the stored object, in the caller's transaction, with the row
 * locked. Only allowed transitions happen; a final status never changes; a repeated
 * answer changes nothing. Returns the changed row, or undefined when nothing changed.
 */

export type PaymentUpdate = Extract<SyncResult, { kind: 'payment'; reference: string }>;
export type RefundUpdate = Extract<SyncResult, { kind: 'refund'; reference: string }>;

export async function applyPaymentUpdate(ctx: PaymentsContext, tx: Tx, row: PaymentRow, update: PaymentUpdate): Promise<PaymentRow | undefined> {
  const { store } = ctx;
  const reference = row.processorReference ?? update.reference;
  switch (row.status) {
    case 'processing': {
      if (row.pendingAction !== null) return undefined;
      // A claim that never announced itself (crash, or a callback faster than our commit) enters processing first.
      const announce = () => store.announceProcessing(tx, row.tenantId, row.id, { processorReference: reference });
      switch (update.status) {
        case 'pending':
          return announce();
        case 'authorized':
          await announce();
          return store.transition(tx, row.tenantId, row.id, {
            to: 'requires_capture',
            from: ['processing'],
            set: { processorReference: reference, amountCapturable: row.amount, captureBefore: ctx.after(ctx.config.authorizationTtlMs), nextSyncAt: null, methodVault: null },
          });
        case 'succeeded':
          await announce();
          return store.transition(tx, row.tenantId, row.id, {
            to: 'succeeded',
            from: ['processing'],
            set: { processorReference: reference, amountReceived: row.amount, amountCapturable: 0, nextSyncAt: null, methodVault: null },
          });
        case 'failed': {
          await announce();
          const failure: PaymentFailure = update.declineCode
            ? { code: update.code, decline_code: update.declineCode, message: update.message }
            : { code: update.code, message: update.message };
          return store.transition(tx, row.tenantId, row.id, {
            to: 'failed',
            from: ['processing'],
            set: { processorReference: reference, failure, nextSyncAt: null, methodVault: null },
          });
        }
        case 'canceled': {
          // Canceled is only reachable through requires_capture: the processor held the
          // money (the authorization we never heard of) and then released it, e.g. on
          // expiry. Both steps are applied, each with its event.
          await announce();
          const held = await store.transition(tx, row.tenantId, row.id, {
            to: 'requires_capture',
            from: ['processing'],
            set: { processorReference: reference, amountCapturable: row.amount, nextSyncAt: null, methodVault: null },
          });
          if (!held) return undefined;
          return store.transition(tx, row.tenantId, row.id, {
            to: 'canceled',
            from: ['requires_capture'],
            set: { amountCapturable: 0, captureBefore: null, cancellationReason: 'automatic' },
          });
        }
      }
      return undefined;
    }
    case 'requires_capture':
      switch (update.status) {
        case 'succeeded':
          if (row.pendingAction === 'capture') {
            // Our capture went through, but this message does not say for how much: the
            // capture is sent again under its key, and the processor's replayed answer
            // (with the amount it captured) is what gets recorded. Never the amount asked.
            await store.patchPayment(tx, row.tenantId, row.id, { nextSyncAt: ctx.now() });
            return undefined;
          }
          // Captured without (or despite) our asking, e.g. from the processor's dashboard.
          // The message names no amount: the whole authorization is taken as captured.
          ctx.logger.warn({ payment_id: row.id, processor: row.processor, pending_action: row.pendingAction }, 'processor reports a capture nobody asked for here');
          return store.transition(tx, row.tenantId, row.id, {
            to: 'succeeded',
            from: ['requires_capture'],
            set: { amountReceived: row.amountCapturable, amountCapturable: 0, pendingAction: null, pendingAmount: null, captureBefore: null, nextSyncAt: null },
          });
        case 'canceled':
          return store.transition(tx, row.tenantId, row.id, {
            to: 'canceled',
            from: ['requires_capture'],
            set: {
              amountCapturable: 0,
              pendingAction: null,
              pendingAmount: null,
              captureBefore: null,
              nextSyncAt: null,
              cancellationReason: row.pendingAction === 'cancel' ? row.cancellationReason : 'automatic',
            },
          });
        case 'pending':
        case 'authorized':
        case 'failed':
          return undefined;
      }
      return undefined;
    case 'requires_confirmation':
    case 'succeeded':
    case 'failed':
    case 'canceled':
      return undefined;
    default:
      return undefined;
  }
}

export async function applyRefundUpdate(ctx: PaymentsContext, tx: Tx, row: RefundRow, update: RefundUpdate): Promise<RefundRow | undefined> {
  if (row.status !== 'pending') return undefined;
  const reference = row.processorReference ?? update.reference;
  switch (update.status) {
    case 'pending':
      if (row.processorReference) return undefined;
      return ctx.store.patchRefund(tx, row.tenantId, row.id, { processorReference: reference });
    case 'succeeded':
      return ctx.store.settleRefund(tx, row.tenantId, row.id, 'succeeded', { processorReference: reference });
    case 'failed':
      return ctx.store.settleRefund(tx, row.tenantId, row.id, 'failed', {
        processorReference: reference,
        failure: { code: update.code, message: update.message },
      });
  }
}
