import { createHash } from 'node:crypto';
import { ProcessorError } from '../sdk/errors.ts';
import type { ProcessorOperation, ProcessorStateTx } from '../sdk/index.ts';

/**
 * The simulator's backend: what a real processor keeps on its side. It lives in the
 * connector's processor state (PostgreSQL in a deployment), so it survives restarts and
 * a separate worker process reconciles against the same ledger. References are derived
 * from the idempotency key so the same key always names the same object.
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
  method: string;
  /** Settles through the bank (its refunds settle later too), rather than at once like a card. */
  bank?: boolean;
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

/**
 * The ledger as seen by one operation: entries are loaded from the processor state in
 * this transaction (locked), changed in place by the operation, and written back by
 * `flush` before the transaction commits. Keys: `payment:<ref>`, `refund:<ref>`,
 * `op:<operation>:<idempotency key>`.
 */
export function createLedger(tx: ProcessorStateTx, now: () => number) {
  const payments = new Map<string, PaymentEntry>();
  const refunds = new Map<string, RefundEntry>();
  const operations = new Map<string, { fingerprint: string; outcome: StoredOutcome }>();

  async function loadPayment(reference: string): Promise<PaymentEntry | undefined> {
    if (!payments.has(reference)) {
      const entry = await tx.get<PaymentEntry>(`payment:${reference}`);
      if (!entry) return undefined;
      payments.set(reference, entry);
    }
    return payments.get(reference);
  }

  async function operation(name: ProcessorOperation, key: string) {
    const id = `op:${name}:${key}`;
    return operations.get(id) ?? (await tx.get<{ fingerprint: string; outcome: StoredOutcome }>(id));
  }

  /** Keys are scoped per operation, like most processors' idempotency layers. */
  async function replay(name: ProcessorOperation, key: string, fingerprint: string): Promise<StoredOutcome | undefined> {
    const stored = await operation(name, key);
    if (stored && stored.fingerprint !== fingerprint) {
      throw new ProcessorError('This idempotency key was already used with different parameters.', {
        retryable: false,
        code: 'idempotency_key_reused',
      });
    }
    return stored?.outcome;
  }

  function remember(name: ProcessorOperation, key: string, fingerprint: string, outcome: StoredOutcome): void {
    operations.set(`op:${name}:${key}`, { fingerprint, outcome });
  }

  /** The reference an operation produced, for `sync` by idempotency key. */
  async function referenceByKey(name: 'authorize' | 'refund', key: string): Promise<string | undefined> {
    return (await operation(name, key))?.outcome.reference;
  }

  /** Applies a settlement that is due. Lazy, so `sync` is right even without timers. */
  async function settle<E extends PaymentEntry | RefundEntry>(entry: E, force = false): Promise<E> {
    const { settlement } = entry;
    if (!settlement || (!force && now() < settlement.at)) return entry;
    entry.settlement = undefined;
    entry.status = settlement.to.status as E['status'];
    if (settlement.to.status === 'failed') entry.failure = settlement.to.failure;
    if ('amountCaptured' in entry && settlement.to.status === 'succeeded') entry.amountCaptured = entry.amount;
    if ('paymentReference' in entry && settlement.to.status === 'failed') {
      const payment = await loadPayment(entry.paymentReference);
      if (payment) payment.amountRefunded -= entry.amount;
    }
    return entry;
  }

  async function payment(reference: string): Promise<PaymentEntry | undefined> {
    const entry = await loadPayment(reference);
    return entry ? settle(entry) : undefined;
  }

  async function refund(reference: string): Promise<RefundEntry | undefined> {
    if (!refunds.has(reference)) {
      const entry = await tx.get<RefundEntry>(`refund:${reference}`);
      if (!entry) return undefined;
      refunds.set(reference, entry);
    }
    return settle(refunds.get(reference)!);
  }

  /** Writes back everything this operation loaded, created or remembered (the writes go out together, in this order). */
  async function flush(): Promise<void> {
    await Promise.all([
      ...[...payments].map(([reference, entry]) => tx.put(`payment:${reference}`, entry)),
      ...[...refunds].map(([reference, entry]) => tx.put(`refund:${reference}`, entry)),
      ...[...operations].map(([id, record]) => tx.put(id, record)),
    ]);
  }

  return {
    replay,
    remember,
    referenceByKey,
    settle,
    payment,
    refund,
    flush,
    addPayment: (entry: PaymentEntry) => void payments.set(entry.reference, entry),
    addRefund: (entry: RefundEntry) => void refunds.set(entry.reference, entry),
  };
}

export type Ledger = ReturnType<typeof createLedger>;

export function unknownReference(reference: string): ProcessorError {
  return new ProcessorError(`No such object: ${reference}.`, { retryable: false, code: 'resource_missing' });
}
