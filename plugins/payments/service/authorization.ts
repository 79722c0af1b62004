import { and, eq } from 'drizzle-orm';
import { schema, type Tx } from '../../../db';
import type { PaymentMethodInput as PaymentMethodRequest } from '../../../runtime/registry/index.ts';
import type { PaymentFailure } from '../model';
import type { RegisteredProcessor } from '../../../processors/sdk/index.ts';
import type { AuthorizeResult } from '../../../processors/sdk/index.ts';
import { ApiError } from '../../../runtime/errors';
import { processorKeys, type PaymentsContext } from './context';
import type { PaymentRow } from './resource';

/**
 * Confirming a payment: the processor call happens between two short transactions.
 * Before the call the payment is `processing` (claimed, so no second confirm or cancel
 * can start) and names the processor being asked; after it, the outcome is committed
 * with its event. A crash in between leaves it `processing` with next_sync_at set, and
 * reconciliation asks the processor with the same idempotency key.
 */

/** How a confirmation ended, for the route to choose between 200/201 and 402. */
export type AuthorizationOutcome =
  | { kind: 'committed'; row: PaymentRow }
  /** The card was refused (decline, expired, CVC) or the processor failed: the payment is `failed`. */
  | { kind: 'failed'; row: PaymentRow; failure: PaymentFailure };

type Attempt = { processor: string; outcome: string; at: string; retryable?: boolean };

export function processorUnavailable(): ApiError {
  return new ApiError(503, 'api_error', 'processor_unavailable', 'No payment processor is available right now. Retry later.', {
    headers: { 'Retry-After': '5' },
  });
}

function failureOf(result: Extract<AuthorizeResult, { status: 'declined' }>): PaymentFailure {
  return result.declineCode
    ? { code: result.code, decline_code: result.declineCode, message: result.message }
    : { code: result.code, message: result.message };
}

const PROCESSING_ERROR: PaymentFailure = {
  code: 'processing_error',
  message: 'An error occurred while processing the payment. Try again later.',
};

export async function runAuthorization(
  ctx: PaymentsContext,
  claimed: PaymentRow,
  method: PaymentMethodRequest,
  candidates: RegisteredProcessor[],
): Promise<AuthorizationOutcome> {
  const { database, store, caller } = ctx;
  const { id, tenantId } = claimed;
  const attempts: Attempt[] = [...(claimed.processorAttempts as Attempt[])];
  const processingOnly = eq(schema.payments.status, 'processing');
  let sawError = false;

  // Lost a race (a callback or reconciliation settled it first)? Answer what is stored.
  const commitTx: CommitTx = (fn) => database.tenant(tenantId, async (tx) => (await fn(tx)) ?? (await store.findPayment(tx, id))!);

  for (const processor of candidates) {
    attempts.push({ processor: processor.id, outcome: 'pending', at: ctx.now().toISOString() });
    // Persist the attempt before the call: support (and reconciliation) see who was asked.
    await database.tenant(tenantId, (tx) =>
      store.patchPayment(tx, id, { processor: processor.id, processorAttempts: attempts, nextSyncAt: ctx.after(ctx.config.reconcileAfterMs) }, processingOnly),
    );
    const outcome = await caller.call(processor, 'authorize', {
      idempotencyKey: processorKeys.authorize(id),
      amount: claimed.amount,
      currency: claimed.currency,
      capture: claimed.captureMethod === 'automatic',
      paymentMethod: method,
      ...(claimed.description ? { description: claimed.description.slice(0, 1000) } : {}),
    });
    const attempt = attempts[attempts.length - 1]!;
    switch (outcome.kind) {
      case 'result': {
        attempt.outcome = outcome.value.status;
        return commitResult(ctx, claimed, outcome.value, attempts, commitTx);
      }
      case 'unknown':
        attempt.outcome = outcome.reason;
        // The breaker kept the call from leaving: nothing happened there, try the next one.
        if (outcome.reason === 'circuit_open') continue;
        return {
          kind: 'committed',
          row: await commitTx((tx) =>
            store.announceProcessing(tx, id, { processorAttempts: attempts, nextSyncAt: ctx.after(ctx.config.reconcileAfterMs) }),
          ),
        };
      case 'error':
        attempt.outcome = 'error';
        attempt.retryable = outcome.retryable;
        if (outcome.retryable) {
          sawError = true;
          continue;
        }
        return failWithProcessingError(ctx, claimed, attempts, commitTx);
    }
  }
  if (sawError) return failWithProcessingError(ctx, claimed, attempts, commitTx);
  // Every processor's circuit is open: nothing was sent anywhere. Give the claim back.
  await database.tenant(tenantId, (tx) =>
    store.patchPayment(
      tx,
      id,
      { status: 'requires_confirmation', processor: claimed.processor, processorAttempts: attempts, nextSyncAt: null, methodVault: claimed.methodVault },
      and(processingOnly, eq(schema.payments.processingAnnounced, false)),
    ),
  );
  throw processorUnavailable();
}

type CommitTx = (fn: (tx: Tx) => Promise<PaymentRow | undefined>) => Promise<PaymentRow>;

async function failWithProcessingError(ctx: PaymentsContext, claimed: PaymentRow, attempts: Attempt[], commitTx: CommitTx): Promise<AuthorizationOutcome> {
  const row = await commitTx((tx) =>
    ctx.store.transition(tx, claimed.id, {
      to: 'failed',
      from: ['processing'],
      set: { failure: PROCESSING_ERROR, processorAttempts: attempts, nextSyncAt: null, methodVault: null },
    }),
  );
  return row.status === 'failed' ? { kind: 'failed', row, failure: (row.failure as PaymentFailure) ?? PROCESSING_ERROR } : { kind: 'committed', row };
}

async function commitResult(
  ctx: PaymentsContext,
  claimed: PaymentRow,
  result: AuthorizeResult,
  attempts: Attempt[],
  commitTx: CommitTx,
): Promise<AuthorizationOutcome> {
  const { store, config } = ctx;
  const id = claimed.id;
  const base = { processorReference: result.reference ?? null, processorAttempts: attempts, methodVault: null };
  switch (result.status) {
    case 'succeeded':
      return {
        kind: 'committed',
        row: await commitTx((tx) =>
          store.transition(tx, id, { to: 'succeeded', from: ['processing'], set: { ...base, amountReceived: claimed.amount, amountCapturable: 0, nextSyncAt: null } }),
        ),
      };
    case 'authorized':
      return {
        kind: 'committed',
        row: await commitTx((tx) =>
          store.transition(tx, id, {
            to: 'requires_capture',
            from: ['processing'],
            set: { ...base, amountCapturable: claimed.amount, captureBefore: ctx.after(config.authorizationTtlMs), nextSyncAt: null },
          }),
        ),
      };
    case 'pending':
      return {
        kind: 'committed',
        row: await commitTx((tx) => store.announceProcessing(tx, id, { ...base, nextSyncAt: ctx.after(config.reconcileAfterMs) })),
      };
    case 'declined': {
      const failure = failureOf(result);
      const row = await commitTx((tx) =>
        store.transition(tx, id, { to: 'failed', from: ['processing'], set: { ...base, failure, nextSyncAt: null } }),
      );
      return row.status === 'failed' ? { kind: 'failed', row, failure } : { kind: 'committed', row };
    }
  }
}
