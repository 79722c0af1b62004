import { and, eq, inArray, isNotNull, isNull, lte, or, sql } from 'drizzle-orm';
import { schema } from '../../../db';
import type { BackgroundWorker } from '../../../runtime/server';
import { purgeExpiredKeys } from '../../idempotency/store';
import type { CancelReason } from './capture-cancel';
import { processorKeys } from './context';
import type { PaymentsService } from './index';
import type { PaymentRow, RefundRow } from './resource';
import { applyPaymentUpdate, applyRefundUpdate } from './updates';

export interface ReconcilerOptions {
  /** Pause between passes (default 1000 ms). */
  intervalMs?: number;
  /** Objects claimed per kind and pass (default 50). */
  batchSize?: number;
  /** Longest wait between two questions about one object (default 1 h). */
  maxBackoffMs?: number;
  /** Fail a payment the processor says it never saw after this many answers (default: NIMBUS_RECONCILE_NOT_FOUND_LIMIT, else 10). */
  notFoundLimit?: number;
  /** Objects asked about at the same time (default 8): one slow processor answer must not hold up the pass. */
  concurrency?: number;
  /** Start looping at once (default true); tests call runOnce() instead. */
  autoStart?: boolean;
}

export interface ReconcileReport {
  payments: number;
  refunds: number;
  expired: number;
  purgedKeys: number;
}

export type Reconciler = BackgroundWorker & { runOnce(): Promise<ReconcileReport>; start(): void };

/**
 * The payments worker: asks processors about payments and refunds still open after
 * NIMBUS_RECONCILE_AFTER_MS (then with exponential backoff), finishes captures and
 * cancels whose answer was lost, expires authorizations older than
 * NIMBUS_AUTHORIZATION_TTL_MS, and purges idempotency keys past their 24 h. Claims use
 * FOR NO KEY UPDATE SKIP LOCKED and push next_sync_at forward first, so any number of
 * workers can run side by side without asking twice. NO KEY UPDATE, not UPDATE: a row
 * another transaction merely references (the KEY SHARE lock of a foreign key check, e.g.
 * a processor call record being written) must not be skipped for a whole pass.
 */
export function createReconciler(service: PaymentsService, options: ReconcilerOptions = {}): Reconciler {
  const { ctx } = service;
  const { database, store, caller, logger } = ctx;
  const batchSize = options.batchSize ?? 50;
  const maxBackoffMs = options.maxBackoffMs ?? 3_600_000;
  const notFoundLimit = options.notFoundLimit ?? ctx.settings.reconcileNotFoundLimit;
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const base = Math.max(ctx.config.reconcileAfterMs, 0);
  const backoff = (attempts: unknown) =>
    sql`${ctx.now().toISOString()}::timestamptz + least(${base}::bigint * power(2, least(${attempts}, 20))::bigint, ${maxBackoffMs}::bigint) * interval '1 millisecond'`;

  async function claimPayments(): Promise<PaymentRow[]> {
    const p = schema.payments;
    return database.system(async (tx) => {
      const due = tx
        .select({ id: p.id })
        .from(p)
        .where(and(lte(p.nextSyncAt, ctx.now()), or(eq(p.status, 'processing'), isNotNull(p.pendingAction))))
        .orderBy(p.nextSyncAt)
        .limit(batchSize)
        .for('no key update', { skipLocked: true });
      return tx
        .update(p)
        .set({ nextSyncAt: backoff(p.syncAttempts), syncAttempts: sql`${p.syncAttempts} + 1` })
        .where(inArray(p.id, due))
        .returning();
    });
  }

  async function claimRefunds(): Promise<RefundRow[]> {
    const r = schema.refunds;
    return database.system(async (tx) => {
      const due = tx
        .select({ id: r.id })
        .from(r)
        .where(and(eq(r.status, 'pending'), lte(r.nextSyncAt, ctx.now())))
        .orderBy(r.nextSyncAt)
        .limit(batchSize)
        .for('no key update', { skipLocked: true });
      return tx
        .update(r)
        .set({ nextSyncAt: backoff(r.syncAttempts), syncAttempts: sql`${r.syncAttempts} + 1` })
        .where(inArray(r.id, due))
        .returning();
    });
  }

  async function claimExpired(): Promise<PaymentRow[]> {
    const p = schema.payments;
    return database.system(async (tx) => {
      const due = tx
        .select({ id: p.id })
        .from(p)
        .where(and(eq(p.status, 'requires_capture'), isNull(p.pendingAction), lte(p.captureBefore, ctx.now())))
        .limit(batchSize)
        .for('no key update', { skipLocked: true });
      return tx
        .update(p)
        .set({ pendingAction: 'cancel', cancellationReason: 'automatic', nextSyncAt: ctx.after(ctx.config.reconcileAfterMs) })
        .where(inArray(p.id, due))
        .returning();
    });
  }

  async function failUnknown(row: PaymentRow, message: string): Promise<void> {
    await database.tenant(row.tenantId, async (tx) => {
      await store.announceProcessing(tx, row.tenantId, row.id);
      await store.transition(tx, row.tenantId, row.id, {
        to: 'failed',
        from: ['processing'],
        set: { failure: { code: 'processing_error', message }, nextSyncAt: null, methodVault: null },
      });
    });
  }

  /** One more "never heard of it"; at the limit the payment fails (nothing was charged anywhere). */
  async function countNotFound(row: PaymentRow): Promise<void> {
    const p = schema.payments;
    await database.tenant(row.tenantId, async (tx) => {
      const [counted] = await tx
        .update(p)
        .set({ syncNotFound: sql`${p.syncNotFound} + 1` })
        .where(and(eq(p.tenantId, row.tenantId), eq(p.id, row.id), eq(p.status, 'processing'), isNull(p.pendingAction)))
        .returning({ syncNotFound: p.syncNotFound });
      if (!counted) return;
      await store.announceProcessing(tx, row.tenantId, row.id);
      if (counted.syncNotFound < notFoundLimit) return;
      logger.warn({ payment_id: row.id, processor: row.processor, answers: counted.syncNotFound }, 'processor never heard of this payment: failing it');
      await store.transition(tx, row.tenantId, row.id, {
        to: 'failed',
        from: ['processing'],
        set: { failure: { code: 'processing_error', message: 'The processor has no record of this payment.' }, nextSyncAt: null, methodVault: null },
      });
    });
  }

  async function reconcilePayment(row: PaymentRow): Promise<void> {
    const { captureCancel } = service;
    // A capture is sent again under its key: the processor replays its answer, with the
    // amount it captured, which is what gets recorded (a status answer names no amount).
    if (row.pendingAction === 'capture') {
      await captureCancel.sendCapture(row, 'reconciliation');
      return;
    }
    const reason = (row.cancellationReason as CancelReason | null) ?? null;
    const processor = row.processor ? ctx.registry.processor(row.processor) : undefined;
    if (!processor) {
      if (row.pendingAction === 'cancel') await captureCancel.sendCancel(row, reason, 'reconciliation');
      // Claimed but never sent anywhere (crash before the first attempt was stored).
      else if (row.status === 'processing' && row.processor === null) await failUnknown(row, 'The payment could not be processed.');
      return;
    }
    const outcome = await caller.call(processor, 'sync', {
      kind: 'payment',
      ...(row.processorReference ? { reference: row.processorReference } : { idempotencyKey: processorKeys.authorize(row.id) }),
    });
    if (outcome.kind !== 'result') {
      if (row.status === 'processing') await database.tenant(row.tenantId, (tx) => store.announceProcessing(tx, row.tenantId, row.id));
      return;
    }
    const answer = outcome.value;
    if (answer.status === 'not_found' || answer.kind !== 'payment') {
      if (row.status === 'processing') await countNotFound(row);
      else if (row.pendingAction === 'cancel') await captureCancel.sendCancel(row, reason, 'reconciliation');
      return;
    }
    // The hold is still there: send the cancel again (same key). Anything else is news to apply.
    if (row.pendingAction === 'cancel' && (answer.status === 'authorized' || answer.status === 'pending')) {
      await captureCancel.sendCancel(row, reason, 'reconciliation');
      return;
    }
    await database.tenant(row.tenantId, async (tx) => {
      const locked = await store.findPayment(tx, row.tenantId, row.id, { lock: true });
      if (locked) await applyPaymentUpdate(ctx, tx, locked, answer);
    });
  }

  async function reconcileRefund(row: RefundRow): Promise<void> {
    const processor = ctx.registry.processor(row.processor);
    if (!processor) return;
    const outcome = await caller.call(processor, 'sync', {
      kind: 'refund',
      ...(row.processorReference ? { reference: row.processorReference } : { idempotencyKey: processorKeys.refund(row.id) }),
    });
    if (outcome.kind !== 'result') return;
    const answer = outcome.value;
    if (answer.status === 'not_found' || answer.kind !== 'refund') {
      // Never arrived: send it again under the same key (the processor dedupes it).
      await service.refunds.sendRefund(row);
      return;
    }
    await database.tenant(row.tenantId, async (tx) => {
      const locked = await store.findRefund(tx, row.tenantId, row.id, { lock: true });
      if (locked) await applyRefundUpdate(ctx, tx, locked, answer);
    });
  }

  /** Runs `fn` over the rows, at most `concurrency` at a time; one failure never stops the others. */
  async function each<T extends { id: string }>(rows: T[], fn: (row: T) => Promise<void>, what: string): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < rows.length) {
        const row = rows[next++]!;
        await fn(row).catch((error) => logger.error({ err: error, id: row.id }, `reconciliation of a ${what} failed`));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, rows.length) }, worker));
  }

  async function runOnce(): Promise<ReconcileReport> {
    const payments = await claimPayments();
    await each(payments, reconcilePayment, 'payment');
    const refunds = await claimRefunds();
    await each(refunds, reconcileRefund, 'refund');
    const expired = await claimExpired();
    await each(expired, (row) => service.captureCancel.sendCancel(row, 'automatic', 'reconciliation').then(() => undefined), 'expired authorization');
    const purgedKeys = await purgeExpiredKeys(database, ctx.now());
    return { payments: payments.length, refunds: refunds.length, expired: expired.length, purgedKeys };
  }

  const intervalMs = options.intervalMs ?? 1000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let current: Promise<unknown> | undefined;
  let stopped = false;

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      current = runOnce()
        .catch((error) => logger.error({ err: error }, 'reconciliation pass failed'))
        .finally(schedule);
    }, intervalMs);
  }

  const reconciler: Reconciler = {
    name: 'payments-reconciler',
    runOnce,
    start: () => {
      stopped = false;
      if (!timer) schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current?.catch(() => undefined);
    },
  };
  if (options.autoStart ?? true) reconciler.start();
  return reconciler;
}
