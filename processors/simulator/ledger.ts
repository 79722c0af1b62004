import { createHash } from 'node:crypto';
import { ProcessorError } from '../sdk/errors.ts';
import type { ProcessorOperation } from '../sdk/model.ts';

/**
 * The simulator's backend: what a real processor keeps on its side. In memory and per
 * process, which is what a simulator needs; its references are derived from the
 * idempotency key so the same key always names the same object.
 */

export type Failure = { code: string; message: string; declineCode?: string };

/** Where a pending object ends up, when, and whether a callback announces it. */
export type Settlement = {
  at: number;
  to: { status: 'succeeded' } | { status: 'authorized' } | { status: 'failed'; failure: Failure };
  callback: boolean;
};

export type PaymentEntry = {
  reference: string;
  method: 'card' | 'bank_transfer';
  amount: number;
  currency: string;
  status: 'pending' | 'authorized' | 'succeeded' | 'canceled' | 'failed';
  failure?: Failure;
  settlement?: Settlement;
  amountCaptured: number;
  /** Refunds not failed (pending or succeeded), which bound what may still be refunded. */
  amountRefunded: number;
  refundsFail: boolean;
};

export type RefundEntry = {
  reference: string;
  paymentReference: string;
  amount: number;
  status: 'pending' | 'succeeded' | 'failed';
  failure?: Failure;
  settlement?: Settlement;
};

/** What a key replays: the first answer, or the first timeout (the simulator stays deterministic). */
export type StoredOutcome = { kind: 'result'; value: unknown; reference?: string } | { kind: 'timeout'; reference: string };

export function referenceFor(kind: 'payment' | 'refund', idempotencyKey: string): string {
  const digest = createHash('sha256').update(`${kind}\u0000${idempotencyKey}`).digest('hex').slice(0, 24);
  return kind === 'payment' ? `sim_${digest}` : `sim_re_${digest}`;
}

export function createLedger(now: () => number) {
  const payments = new Map<string, PaymentEntry>();
  const refunds = new Map<string, RefundEntry>();
  const operations = new Map<string, { fingerprint: string; outcome: StoredOutcome }>();

  /** Keys are scoped per operation, like most processors' idempotency layers. */
  function replay(operation: ProcessorOperation, key: string, fingerprint: string): StoredOutcome | undefined {
    const stored = operations.get(`${operation}\u0000${key}`);
    if (stored && stored.fingerprint !== fingerprint) {
      throw new ProcessorError('This idempotency key was already used with different parameters.', {
        retryable: false,
        code: 'idempotency_key_reused',
      });
    }
    return stored?.outcome;
  }

  function remember(operation: ProcessorOperation, key: string, fingerprint: string, outcome: StoredOutcome): void {
    operations.set(`${operation}\u0000${key}`, { fingerprint, outcome });
  }

  /** The reference an operation produced, for `sync` by idempotency key. */
  function referenceByKey(operation: 'authorize' | 'refund', key: string): string | undefined {
    return operations.get(`${operation}\u0000${key}`)?.outcome.reference;
  }

  /** Applies a settlement that is due. Lazy, so `sync` is right even without timers. */
  function settle<E extends PaymentEntry | RefundEntry>(entry: E, force = false): E {
    const { settlement } = entry;
    if (!settlement || (!force && now() < settlement.at)) return entry;
    entry.settlement = undefined;
    entry.status = settlement.to.status as E['status'];
    if (settlement.to.status === 'failed') entry.failure = settlement.to.failure;
    if ('amountCaptured' in entry && settlement.to.status === 'succeeded') entry.amountCaptured = entry.amount;
    if ('paymentReference' in entry && settlement.to.status === 'failed') {
      const payment = payments.get(entry.paymentReference);
      if (payment) payment.amountRefunded -= entry.amount;
    }
    return entry;
  }

  function payment(reference: string): PaymentEntry | undefined {
    const entry = payments.get(reference);
    return entry ? settle(entry) : undefined;
  }

  function refund(reference: string): RefundEntry | undefined {
    const entry = refunds.get(reference);
    return entry ? settle(entry) : undefined;
  }

  return {
    replay,
    remember,
    referenceByKey,
    settle,
    payment,
    refund,
    addPayment: (entry: PaymentEntry) => void payments.set(entry.reference, entry),
    addRefund: (entry: RefundEntry) => void refunds.set(entry.reference, entry),
  };
}

export type Ledger = ReturnType<typeof createLedger>;

export function unknownReference(reference: string): ProcessorError {
  return new ProcessorError(`No such object: ${reference}.`, { retryable: false, code: 'resource_missing' });
}
