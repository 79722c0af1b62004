import type { Tx } from '../../../db';
import type { PaymentMethodInput as PaymentMethodRequest } from '../../../runtime/registry/index.ts';
import type { PaymentFailure } from '../model';
import type { RegisteredProcessor } from '../../../processors/sdk/index.ts';
import type { AuthorizeResult } from '../../../processors/sdk/index.ts';
import { ApiError } from '../../../runtime/errors';
import type { RequestCommit } from '../../../runtime/unit-of-work';
import { processorKeys, type PaymentsContext } from './context';
import type { PaymentRow } from './resource';
import type { AlsoWrite } from './store';

/**
 * Confirming a payment: the processor call happens between two short transactions.
 * Before the call the payment is `processing` (claimed, so no second confirm or cancel
 * can start), names the processor being asked and records that attempt as in flight,
 * and holds no method details any more; after it, the outcome is committed with its
 * event (and the request's idempotency record). A crash in between leaves it
 * `processing` with next_sync_at set, and reconciliation (or a retry with the same
 * Idempotency-Key) asks that processor with the same idempotency key.
 */

/** How a confirmation ended, for the route to choose its answer. */
export type AuthorizationOutcome =
  | { kind: 'committed'; row: PaymentRow }
  /** The card was refused (decline, expired, CVC) or the processor failed: the payment is `failed`. */
  | { kind: 'failed'; row: PaymentRow; failure: PaymentFailure }
  /** No processor could be asked (every circuit open): the payment is `failed` with `processor_unavailable`. */
  | { kind: 'unavailable'; row: PaymentRow };

export type Attempt = { processor: string; outcome: string; at: string; retryable?: boolean };

/** The outcome of an attempt stored before its call: if it stays, nobody knows whether the call arrived. */
export const IN_FLIGHT = 'in_flight';

export function inFlightAttempt(ctx: Pick<PaymentsContext, 'now'>, processorId: string): Attempt {
  return { processor: processorId, outcome: IN_FLIGHT, at: ctx.now().toISOString() };
}

/** The request's own writes (answer, audit row), in the transaction that commits the outcome. */
export type Finish = RequestCommit<AuthorizationOutcome>;

export function processorUnavailable(options: { retryable?: boolean } = {}): ApiError {
  const retryable = options.retryable ?? true;
  return new ApiError(
    503,
    'api_error',
    'processor_unavailable',
    retryable ? 'No payment processor is available right now. Retry later.' : 'No payment processor was available: the payment failed and nothing was charged.',
    retryable ? { headers: { 'Retry-After': '5' } } : {},
  );
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

export const PROCESSOR_UNAVAILABLE: PaymentFailure = {
  code: 'processor_unavailable',
  message: 'No payment processor was available to take the payment. Nothing was charged; create a new payment to try again.',
};

/** The second commit: a change (which may find that another request won), then everything written with it. */
type CommitTx = (
  change: (tx: Tx, also: AlsoWrite) => Promise<PaymentRow | undefined>,
  classify: (row: PaymentRow) => AuthorizationOutcome,
) => Promise<AuthorizationOutcome>;

const committed = (row: PaymentRow): AuthorizationOutcome => ({ kind: 'committed', row });

/**
 * Asks the candidates in order. `claimed` is `processing`, names candidates[0] and ends
 * with that processor's in-flight attempt (written by the claim's transaction). The
 * outcome commits in one transaction with its event and outbox rows, the record of every
 * processor call made, and the request's answer and audit row (`finish`).
 */
export async function runAuthorization(
  ctx: PaymentsContext,
  claimed: PaymentRow,
  method: PaymentMethodRequest,
  candidates: RegisteredProcessor[],
  finish?: Finish,
): Promise<AuthorizationOutcome> {
  const { database, store, caller } = ctx;
  const { id, tenantId } = claimed;
  const attempts: Attempt[] = [...(claimed.processorAttempts as Attempt[])];
  let sawError = false;
  const held = ctx.attempts.hold(processorKeys.authorize(id));
  let recorded = false;

  const commitTx: CommitTx = async (change, classify) => {
    const outcome = await database.tenant(tenantId, async (tx) => {
      let result: AuthorizationOutcome | undefined;
      const also: AlsoWrite = async (row) => {
        result = classify(row);
        await Promise.all([held.write(tx, { tenantId, paymentId: id }), finish?.write(tx, result)]);
      };
      const row = await change(tx, also);
      // Lost a race (a callback or reconciliation settled it first)? Answer what is stored.
      if (!result) await also(row ?? (await store.findPayment(tx, tenantId, id))!);
      return result!;
    });
    recorded = true;
    finish?.committed();
    return outcome;
  };

  try {
    for (const [index, processor] of candidates.entries()) {
      if (index > 0) {
        attempts.push(inFlightAttempt(ctx, processor.id));
        // Failing over: store who is asked before the call, so a crash leaves reconciliation asking the right one.
        await database.tenant(tenantId, (tx) =>
          store.patchPayment(tx, tenantId, id, { processor: processor.id, processorAttempts: attempts, nextSyncAt: ctx.after(ctx.config.reconcileAfterMs) }, { from: ['processing'] }),
        );
      }
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
          return await commitResult(ctx, claimed, outcome.value, attempts, commitTx);
        }
        case 'unknown':
          attempt.outcome = outcome.reason;
          // The breaker kept the call from leaving: nothing happened there, try the next one.
          if (outcome.reason === 'circuit_open') continue;
          return await commitTx(
            (tx, also) => store.announceProcessing(tx, tenantId, id, { processorAttempts: attempts, nextSyncAt: ctx.after(ctx.config.reconcileAfterMs) }, also),
            committed,
          );
        case 'error':
          attempt.outcome = 'error';
          attempt.retryable = outcome.retryable;
          if (outcome.retryable) {
            sawError = true;
            continue;
          }
          return await failWith(ctx, claimed, attempts, commitTx, PROCESSING_ERROR);
      }
    }
    // Every candidate refused or was skipped: nothing was charged anywhere. `processing` may
    // only end in requires_capture, succeeded or failed, so the payment fails (its method
    // details are gone, by design: they never outlive the call they were kept for).
    return await failWith(ctx, claimed, attempts, commitTx, sawError ? PROCESSING_ERROR : PROCESSOR_UNAVAILABLE);
  } finally {
    held.release(recorded);
  }
}

function failWith(
  ctx: PaymentsContext,
  claimed: PaymentRow,
  attempts: Attempt[],
  commitTx: CommitTx,
  failure: PaymentFailure,
): Promise<AuthorizationOutcome> {
  return commitTx(
    (tx, also) =>
      ctx.store.transition(
        tx,
        claimed.tenantId,
        claimed.id,
        { to: 'failed', from: ['processing'], set: { failure, processorAttempts: attempts, nextSyncAt: null, methodVault: null } },
        also,
      ),
    (row) => {
      if (row.status !== 'failed') return committed(row);
      const stored = (row.failure as PaymentFailure | null) ?? failure;
      return stored.code === PROCESSOR_UNAVAILABLE.code ? { kind: 'unavailable', row } : { kind: 'failed', row, failure: stored };
    },
  );
}

function commitResult(
  ctx: PaymentsContext,
  claimed: PaymentRow,
  result: AuthorizeResult,
  attempts: Attempt[],
  commitTx: CommitTx,
): Promise<AuthorizationOutcome> {
  const { store, config } = ctx;
  const { id, tenantId } = claimed;
  const base = { processorReference: result.reference ?? null, processorAttempts: attempts, methodVault: null };
  switch (result.status) {
    case 'succeeded':
      return commitTx(
        (tx, also) =>
          store.transition(tx, tenantId, id, { to: 'succeeded', from: ['processing'], set: { ...base, amountReceived: claimed.amount, amountCapturable: 0, nextSyncAt: null } }, also),
        committed,
      );
    case 'authorized':
      return commitTx(
        (tx, also) =>
          store.transition(
            tx,
            tenantId,
            id,
            { to: 'requires_capture', from: ['processing'], set: { ...base, amountCapturable: claimed.amount, captureBefore: ctx.after(config.authorizationTtlMs), nextSyncAt: null } },
            also,
          ),
        committed,
      );
    case 'pending':
      return commitTx((tx, also) => store.announceProcessing(tx, tenantId, id, { ...base, nextSyncAt: ctx.after(config.reconcileAfterMs) }, also), committed);
    case 'declined': {
      const failure = failureOf(result);
      return commitTx(
        (tx, also) => store.transition(tx, tenantId, id, { to: 'failed', from: ['processing'], set: { ...base, failure, nextSyncAt: null } }, also),
        (row) => (row.status === 'failed' ? { kind: 'failed', row, failure } : committed(row)),
      );
    }
  }
}
