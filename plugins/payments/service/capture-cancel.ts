import { Counter } from 'prom-client';
import type { CancellationReason } from '../model';
import { ApiError, parameterInvalid, resourceMissing, unexpectedState } from '../../../runtime/errors';
import type { Tx } from '../../../db';
import type { HeldAttempts } from '../attempts/recorder';
import type { Metrics } from '../../../runtime/metrics';
import type { RequestCommit } from '../../../runtime/unit-of-work';
import type { IdempotentRequest } from '../../idempotency';
import { processorUnavailable } from './authorization';
import { processorKeys, type PaymentsContext } from './context';
import { firstCommit } from './first-commit';
import { wrongState } from './payments';
import type { PaymentRow } from './resource';
import type { AlsoWrite } from './store';

/**
 * Capture and cancel of an authorization. API.md allows no intermediate status between
 * requires_capture and succeeded/canceled, so the claim is `pending_action` instead: set
 * under a row lock before the processor call, cleared by the commit. A second capture or
 * cancel meanwhile is a 409. Nothing is committed that the processor did not confirm:
 * an unknown outcome keeps the claim for reconciliation, and a call that certainly did
 * not happen (refused, or kept back by an open circuit) gives the claim back and answers
 * 503 `processor_unavailable` (409 when the processor refused the operation itself).
 * A request's answer and audit row (`finish`) commit with its outcome: two commits.
 */

/** The request's own writes, with the payment it answers. */
export type PaymentFinish = RequestCommit<PaymentRow>;

export type CancelReason = CancellationReason | 'automatic';

/** Who sends: a request answers the client (and gives up a claim it cannot finish); reconciliation keeps trying. */
export type Origin = 'request' | 'reconciliation';

function processorRefused(message: string): ApiError {
  return unexpectedState('payment_unexpected_state', `The processor refused: ${message}`);
}

const MISMATCH_METRIC = 'nimbus_capture_amount_mismatch_total';

/** Captures whose confirmed amount differs from the amount asked, by processor (the payments plugin's own metric). */
function mismatchCounter(metrics: Metrics): Counter<'processor'> {
  const existing = metrics.registry.getSingleMetric(MISMATCH_METRIC);
  if (existing) return existing as Counter<'processor'>;
  return new Counter({
    name: MISMATCH_METRIC,
    help: 'Captures the processor confirmed for another amount than was asked; the payment records what the processor captured.',
    labelNames: ['processor'] as const,
    registers: [metrics.registry],
  });
}

export function createCaptureCancel(ctx: PaymentsContext) {
  const { database, store } = ctx;
  const mismatches = mismatchCounter(ctx.metrics);
  const current = async (row: PaymentRow) => (await database.tenant(row.tenantId, (tx) => store.findPayment(tx, row.tenantId, row.id))) ?? row;

  async function releaseClaim(row: PaymentRow, action: 'capture' | 'cancel'): Promise<void> {
    await database.tenant(row.tenantId, (tx) =>
      store.patchPayment(
        tx,
        row.tenantId,
        row.id,
        { pendingAction: null, pendingAmount: null, nextSyncAt: null, ...(action === 'cancel' ? { cancellationReason: null } : {}) },
        { pendingAction: action },
      ),
    );
  }

  /**
   * Runs `change` as the request's second commit: with the records of the calls made
   * under `processorKey` and the request's answer, once the changed row is known.
   */
  async function commitWith(
    row: PaymentRow,
    held: HeldAttempts | undefined,
    finish: PaymentFinish | undefined,
    change: (tx: Tx, also: AlsoWrite) => Promise<PaymentRow | undefined>,
  ): Promise<PaymentRow | undefined> {
    const changed = await database.tenant(row.tenantId, (tx) =>
      change(tx, async (changedRow) => {
        await Promise.all([held?.write(tx, { tenantId: row.tenantId, paymentId: row.id }), finish?.write(tx, changedRow)]);
      }),
    );
    if (changed !== undefined) {
      held?.release(true);
      finish?.committed();
    }
    return changed;
  }

  /** Holds the records of the calls made under `processorKey` while `run` lasts (see attempts/recorder.ts); what was not committed is written apart. */
  async function holding<T>(processorKey: string, run: (held: HeldAttempts) => Promise<T>): Promise<T> {
    const held = ctx.attempts.hold(processorKey);
    try {
      return await run(held);
    } finally {
      held.release(false);
    }
  }

  /** Commits a capture the processor confirmed, for the amount it confirmed (also used by reconciliation). */
  function commitCapture(row: PaymentRow, amountCaptured: number, finish?: PaymentFinish, held?: HeldAttempts): Promise<PaymentRow | undefined> {
    return commitWith(row, held, finish, (tx, also) =>
      store.transition(
        tx,
        row.tenantId,
        row.id,
        {
          to: 'succeeded',
          from: ['requires_capture'],
          guard: { pendingAction: 'capture' },
          set: { amountReceived: amountCaptured, amountCapturable: 0, pendingAction: null, pendingAmount: null, captureBefore: null, nextSyncAt: null },
        },
        also,
      ),
    );
  }

  /**
   * The processor's word on what moved is the truth: a capture confirmed for another
   * amount than asked is recorded as confirmed (never as asked), and reported loudly,
   * since it means a connector or the processor disagrees with us.
   */
  function checkCaptured(row: PaymentRow, asked: number, captured: number): void {
    if (captured === asked) return;
    mismatches.inc({ processor: row.processor ?? 'none' });
    ctx.logger.error(
      { payment_id: row.id, processor: row.processor, amount_asked: asked, amount_captured: captured },
      'processor captured another amount than asked; recording what it captured',
    );
  }

  /** Asks the processor to capture what the claim names; commits only what it confirms. */
  function sendCapture(row: PaymentRow, origin: Origin = 'request', finish?: PaymentFinish): Promise<PaymentRow> {
    return holding(processorKeys.capture(row.id), (held) => captureHeld(row, origin, finish, held));
  }

  async function captureHeld(row: PaymentRow, origin: Origin, finish: PaymentFinish | undefined, held: HeldAttempts): Promise<PaymentRow> {
    const asked = row.pendingAmount ?? row.amountCapturable;
    const processor = row.processor ? ctx.registry.processor(row.processor) : undefined;
    if (!processor || !row.processorReference) throw new Error(`payment ${row.id} has no processor reference to capture`);
    const outcome = await ctx.caller.call(processor, 'capture', {
      idempotencyKey: processorKeys.capture(row.id),
      reference: row.processorReference,
      amount: asked,
      currency: row.currency,
    });
    switch (outcome.kind) {
      case 'result':
        if (outcome.value.status === 'failed') {
          await releaseClaim(row, 'capture');
          if (origin === 'request') throw processorRefused(outcome.value.message);
          return current(row);
        }
        checkCaptured(row, asked, outcome.value.amountCaptured);
        return (await commitCapture(row, outcome.value.amountCaptured, finish, held)) ?? current(row);
      case 'unknown':
        // Kept back by the breaker: nothing was sent. A request gives up; reconciliation asks again later.
        if (outcome.reason === 'circuit_open') {
          if (origin === 'reconciliation') return row;
          await releaseClaim(row, 'capture');
          throw processorUnavailable();
        }
        // Maybe captured: the claim stays, reconciliation finds out.
        return row;
      case 'error':
        // Refused before anything happened: the authorization can be captured (or canceled) again.
        await releaseClaim(row, 'capture');
        if (origin === 'request') throw processorUnavailable();
        return current(row);
    }
  }

  /** POST /v1/payments/:id/capture: the claim (with the request's key), the call, the outcome (with its answer). */
  async function capture(tenantId: string, id: string, amountToCapture?: number, idempotency?: IdempotentRequest, finish?: PaymentFinish): Promise<PaymentRow> {
    const opened = await firstCommit(ctx, tenantId, idempotency, id, async (tx) => {
      const row = await store.findPayment(tx, tenantId, id, { lock: true });
      if (!row) throw resourceMissing('payment', id);
      if (row.status !== 'requires_capture' || row.pendingAction !== null) wrongState(row, 'capture');
      const amount = amountToCapture ?? row.amountCapturable;
      if (amount > row.amountCapturable) {
        throw parameterInvalid('amount_to_capture', `amount_to_capture must be less than or equal to amount_capturable (${row.amountCapturable}).`);
      }
      return (await store.patchPayment(tx, tenantId, id, { pendingAction: 'capture', pendingAmount: amount, nextSyncAt: ctx.after(ctx.config.reconcileAfterMs) }))!;
    });
    if (opened.kind === 'resume') return resumeCapture(tenantId, id, amountToCapture, finish);
    return sendCapture(opened.result, 'request', finish);
  }

  /** Answers `row` as the request's outcome (its answer and audit row in one commit of their own). */
  async function answerWith(row: PaymentRow, finish: PaymentFinish | undefined): Promise<PaymentRow> {
    if (finish) {
      await database.tenant(row.tenantId, (tx) => finish.write(tx, row));
      finish.committed();
    }
    return row;
  }

  /**
   * A retry of a capture whose request ended without an answer (a 5xx, a dead replica):
   * the key is bound to the payment, so the retry finishes that capture instead of being
   * refused by the state the first one left. A capture still claimed is asked again under
   * the same processor-side key (the processor captures once); one that reconciliation
   * finished is answered as it is; one given back (certainly not sent) runs again.
   */
  async function resumeCapture(tenantId: string, id: string, amountToCapture: number | undefined, finish?: PaymentFinish): Promise<PaymentRow> {
    const row = await database.tenant(tenantId, (tx) => store.findPayment(tx, tenantId, id));
    if (!row) throw resourceMissing('payment', id);
    if (row.status === 'requires_capture' && row.pendingAction === 'capture') return sendCapture(row, 'request', finish);
    if (row.status === 'requires_capture' && row.pendingAction === null) return capture(tenantId, id, amountToCapture, undefined, finish);
    if (row.status === 'succeeded' && row.amountReceived > 0) return answerWith(row, finish);
    return wrongState(row, 'capture');
  }

  /** The same for a cancel: finish the claimed cancel, answer a finished one, or cancel again. */
  async function resumeCancel(tenantId: string, id: string, reason: CancellationReason | undefined, finish?: PaymentFinish): Promise<PaymentRow> {
    const row = await database.tenant(tenantId, (tx) => store.findPayment(tx, tenantId, id));
    if (!row) throw resourceMissing('payment', id);
    if (row.status === 'requires_capture' && row.pendingAction === 'cancel') return sendCancel(row, row.cancellationReason as CancelReason | null, 'request', finish);
    if (row.status === 'canceled') return answerWith(row, finish);
    return cancel(tenantId, id, reason, undefined, finish);
  }

  /** Commits a cancel of an authorization (also used by reconciliation and expiry). */
  function commitCancel(row: PaymentRow, reason: CancelReason | null, finish?: PaymentFinish, held?: HeldAttempts): Promise<PaymentRow | undefined> {
    return commitWith(row, held, finish, (tx, also) =>
      store.transition(
        tx,
        row.tenantId,
        row.id,
        {
          to: 'canceled',
          from: ['requires_capture'],
          guard: { pendingAction: 'cancel' },
          set: { amountCapturable: 0, pendingAction: null, pendingAmount: null, captureBefore: null, nextSyncAt: null, cancellationReason: reason },
        },
        also,
      ),
    );
  }

  /**
   * Releases an authorization at the processor, then commits `canceled`, and only then:
   * a hold the processor has not confirmed released may still be captured, so the
   * payment never says `canceled` before the processor does. Unknown outcome (timeout):
   * the payment stays requires_capture with the cancel pending, and reconciliation
   * finishes it. Certainly not sent (error, open circuit): a request gives the claim back
   * and answers 503; reconciliation keeps the claim and asks again with backoff.
   */
  function sendCancel(row: PaymentRow, reason: CancelReason | null, origin: Origin = 'request', finish?: PaymentFinish): Promise<PaymentRow> {
    return holding(processorKeys.cancel(row.id), (held) => cancelHeld(row, reason, origin, finish, held));
  }

  async function cancelHeld(row: PaymentRow, reason: CancelReason | null, origin: Origin, finish: PaymentFinish | undefined, held: HeldAttempts): Promise<PaymentRow> {
    const processor = row.processor ? ctx.registry.processor(row.processor) : undefined;
    // No reference: nothing was ever held at a processor, so there is nothing to release.
    if (!processor || !row.processorReference) return (await commitCancel(row, reason, finish, held)) ?? current(row);
    const outcome = await ctx.caller.call(processor, 'cancel', {
      idempotencyKey: processorKeys.cancel(row.id),
      reference: row.processorReference,
      ...(reason ? { reason } : {}),
    });
    switch (outcome.kind) {
      case 'result':
        if (outcome.value.status === 'canceled') return (await commitCancel(row, reason, finish, held)) ?? current(row);
        // Refused (e.g. already captured): the claim goes; reconciliation or a callback tells what happened.
        await releaseClaim(row, 'cancel');
        if (origin === 'request') throw processorRefused(outcome.value.message);
        return current(row);
      case 'unknown':
        if (outcome.reason === 'circuit_open' && origin === 'request') {
          await releaseClaim(row, 'cancel');
          throw processorUnavailable();
        }
        return row;
      case 'error':
        if (origin === 'reconciliation') return row;
        await releaseClaim(row, 'cancel');
        throw processorUnavailable();
    }
  }

  /** Claims an authorization for cancel under a row lock; undefined if it is no longer one. */
  async function claimCancel(tenantId: string, id: string, reason: CancelReason | null): Promise<PaymentRow | undefined> {
    return database.tenant(tenantId, (tx) =>
      store.patchPayment(
        tx,
        tenantId,
        id,
        { pendingAction: 'cancel', cancellationReason: reason, nextSyncAt: ctx.after(ctx.config.reconcileAfterMs) },
        { from: ['requires_capture'], pendingAction: null },
      ),
    );
  }

  /**
   * POST /v1/payments/:id/cancel: from requires_confirmation (nothing at the processor:
   * one commit, with the request's answer) or requires_capture (claim, call, outcome).
   */
  async function cancel(tenantId: string, id: string, reason?: CancellationReason, idempotency?: IdempotentRequest, finish?: PaymentFinish): Promise<PaymentRow> {
    const cancellationReason = reason ?? null;
    const opened = await firstCommit(
      ctx,
      tenantId,
      idempotency,
      id,
      async (tx) => {
      const row = await store.findPayment(tx, tenantId, id, { lock: true });
      if (!row) return { kind: 'missing' as const };
      switch (row.status) {
        case 'requires_confirmation': {
          const canceled = await store.transition(tx, tenantId, id, { to: 'canceled', from: ['requires_confirmation'], set: { cancellationReason, methodVault: null } });
          return { kind: 'done' as const, row: canceled! };
        }
        case 'requires_capture':
          if (row.pendingAction !== null) wrongState(row, 'cancel');
          return { kind: 'claimed' as const, row: (await store.patchPayment(tx, tenantId, id, { pendingAction: 'cancel', cancellationReason, nextSyncAt: ctx.after(ctx.config.reconcileAfterMs) }))! };
        case 'processing':
        case 'succeeded':
        case 'failed':
        case 'canceled':
          return wrongState(row, 'cancel');
        default:
          throw new Error(`unknown payment status ${row.status}`);
      }
      },
      async (tx, outcome) => {
        if (outcome.kind === 'done') await finish?.write(tx, outcome.row);
      },
    );
    if (opened.kind === 'resume') return resumeCancel(tenantId, id, reason, finish);
    const outcome = opened.result;
    switch (outcome.kind) {
      case 'missing':
        throw resourceMissing('payment', id);
      case 'done':
        finish?.committed();
        return outcome.row;
      case 'claimed':
        return sendCancel(outcome.row, cancellationReason, 'request', finish);
    }
  }

  return { capture, cancel, sendCapture, sendCancel, claimCancel, commitCapture, commitCancel };
}

export type CaptureCancel = ReturnType<typeof createCaptureCancel>;
