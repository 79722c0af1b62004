import { assertNever } from '../../runtime/assert-never.ts';
import { ProcessorError, ProcessorTimeoutError } from '../sdk/errors.ts';
import type {
  AuthorizeInput,
  AuthorizeResult,
  CancelInput,
  CancelResult,
  CaptureInput,
  CaptureResult,
  RefundInput,
  RefundResult,
  SyncInput,
  SyncResult,
} from '../sdk/model.ts';
import { referenceFor, unknownReference, type Ledger, type PaymentEntry, type RefundEntry } from './ledger.ts';
import { scenarioFor } from './test-data.ts';

/**
 * The simulator's business logic, free of timers and latency (index.ts adds those).
 * Every operation first replays what its idempotency key already produced.
 */

/** An object whose later state change the simulator should announce with a callback. */
export type Announcement = { kind: 'payment' | 'refund'; reference: string };

export type Deps = {
  ledger: Ledger;
  now: () => number;
  settleMs: number;
  /** Schedules the callback for an object that settles later (index.ts owns the timers). */
  announce: (announcement: Announcement) => void;
};

/** Identifies "the same request" for idempotency without keeping any card or account number. */
function authorizeFingerprint(input: AuthorizeInput): string {
  const method = input.paymentMethod;
  const details = (method as Record<string, unknown>)[method.type] as Record<string, unknown> | undefined;
  const identifier = details?.number ?? details?.iban ?? details?.account_number ?? '';
  const tail = typeof identifier === 'string' ? identifier.slice(-4) : '';
  return [input.amount, input.currency, input.capture, method.type, tail].join('|');
}

function unexpectedState(reference: string, action: string) {
  return {
    status: 'failed' as const,
    reference,
    code: 'payment_unexpected_state',
    message: `The payment cannot be ${action} in its current state.`,
  };
}

export async function authorize({ ledger, now, settleMs, announce }: Deps, input: AuthorizeInput): Promise<AuthorizeResult> {
  const fingerprint = authorizeFingerprint(input);
  const stored = await ledger.replay('authorize', input.idempotencyKey, fingerprint);
  if (stored?.kind === 'timeout') throw new ProcessorTimeoutError('Simulated processor timeout (test card).');
  if (stored) return stored.value as AuthorizeResult;

  const reference = referenceFor('payment', input.idempotencyKey);
  const scenario = scenarioFor(input.paymentMethod);
  const approved = input.capture ? ('succeeded' as const) : ('authorized' as const);
  const entry: PaymentEntry = {
    reference,
    method: input.paymentMethod.type,
    amount: input.amount,
    currency: input.currency,
    status: 'pending',
    amountCaptured: 0,
    amountRefunded: 0,
    refundsFail: false,
  };
  const settleAt = now() + settleMs;
  let answer: AuthorizeResult;
  switch (scenario.kind) {
    case 'processor_error':
      // Nothing is recorded: the processor refused before doing anything, so a retry may succeed elsewhere.
      throw new ProcessorError('Simulated processing error (test card).', { retryable: true, code: 'processing_error' });
    case 'timeout':
      // The processor did the work; only its answer is lost. `sync` and the callback tell the truth.
      entry.status = approved;
      entry.amountCaptured = input.capture ? input.amount : 0;
      ledger.addPayment(entry);
      ledger.remember('authorize', input.idempotencyKey, fingerprint, { kind: 'timeout', reference });
      announce({ kind: 'payment', reference });
      throw new ProcessorTimeoutError('Simulated processor timeout (test card).');
    case 'approve':
      entry.status = approved;
      entry.amountCaptured = input.capture ? input.amount : 0;
      entry.refundsFail = scenario.refundsFail;
      answer = { status: approved, reference };
      break;
    case 'decline': {
      const { code, declineCode, message } = scenario;
      entry.status = 'failed';
      entry.failure = { code, message, ...(declineCode ? { declineCode } : {}) };
      answer = { status: 'declined', reference, code, message, ...(declineCode ? { declineCode } : {}) };
      break;
    }
    case 'bank_settle':
      entry.bank = true;
      entry.settlement = { at: settleAt, to: { status: 'succeeded' }, callback: true };
      answer = { status: 'pending', reference };
      announce({ kind: 'payment', reference });
      break;
    case 'bank_return':
      entry.bank = true;
      entry.settlement = {
        at: settleAt,
        to: { status: 'failed', failure: { code: scenario.code, message: scenario.message } },
        callback: true,
      };
      answer = { status: 'pending', reference };
      announce({ kind: 'payment', reference });
      break;
    case 'bank_reconcile':
      entry.bank = true;
      entry.settlement = { at: settleAt, to: { status: 'succeeded' }, callback: false };
      answer = { status: 'pending', reference };
      break;
    default:
      return assertNever(scenario, 'simulator scenario');
  }
  ledger.addPayment(entry);
  ledger.remember('authorize', input.idempotencyKey, fingerprint, { kind: 'result', value: answer, reference });
  return answer;
}

export async function capture({ ledger }: Deps, input: CaptureInput): Promise<CaptureResult> {
  const fingerprint = [input.reference, input.amount, input.currency].join('|');
  // The payment's row lock first: a concurrent call with this key waits here, then replays what the first stored.
  const entry = await ledger.payment(input.reference);
  const stored = await ledger.replay('capture', input.idempotencyKey, fingerprint);
  if (stored?.kind === 'result') return stored.value as CaptureResult;
  if (!entry) throw unknownReference(input.reference);
  let result: CaptureResult;
  if (entry.status !== 'authorized') result = unexpectedState(entry.reference, 'captured');
  else if (input.amount > entry.amount || input.currency !== entry.currency) {
    result = {
      status: 'failed',
      reference: entry.reference,
      code: 'amount_too_large',
      message: 'The capture exceeds the authorized amount.',
    };
  } else {
    entry.status = 'succeeded';
    entry.amountCaptured = input.amount;
    result = { status: 'succeeded', reference: entry.reference, amountCaptured: input.amount };
  }
  ledger.remember('capture', input.idempotencyKey, fingerprint, { kind: 'result', value: result });
  return result;
}

export async function cancel({ ledger }: Deps, input: CancelInput): Promise<CancelResult> {
  // The payment's row lock first: a concurrent call with this key waits here, then replays what the first stored.
  const entry = await ledger.payment(input.reference);
  const stored = await ledger.replay('cancel', input.idempotencyKey, input.reference);
  if (stored?.kind === 'result') return stored.value as CancelResult;
  if (!entry) throw unknownReference(input.reference);
  let result: CancelResult;
  if (entry.status === 'authorized') {
    entry.status = 'canceled';
    result = { status: 'canceled', reference: entry.reference };
  } else result = unexpectedState(entry.reference, 'canceled');
  ledger.remember('cancel', input.idempotencyKey, input.reference, { kind: 'result', value: result });
  return result;
}

function refundFailure(payment: PaymentEntry, amount: number): { code: string; message: string } | undefined {
  if (payment.status !== 'succeeded') return unexpectedState(payment.reference, 'refunded');
  if (amount > payment.amountCaptured - payment.amountRefunded) {
    return { code: 'amount_too_large', message: 'The refund exceeds what remains of the payment.' };
  }
  if (payment.refundsFail) return { code: 'refund_declined', message: 'The issuer refused the refund (test card).' };
  return undefined;
}

export async function refund({ ledger, now, settleMs, announce }: Deps, input: RefundInput): Promise<RefundResult> {
  const fingerprint = [input.reference, input.amount, input.currency].join('|');
  // The payment's row lock first: a concurrent call with this key waits here, then replays what the first stored.
  const payment = await ledger.payment(input.reference);
  const stored = await ledger.replay('refund', input.idempotencyKey, fingerprint);
  if (stored?.kind === 'result') return stored.value as RefundResult;
  if (!payment) throw unknownReference(input.reference);
  const reference = referenceFor('refund', input.idempotencyKey);
  const entry: RefundEntry = { reference, paymentReference: payment.reference, amount: input.amount, status: 'pending' };
  const failure = input.currency === payment.currency ? refundFailure(payment, input.amount) : {
    code: 'currency_mismatch',
    message: 'The refund currency differs from the payment currency.',
  };
  let answer: RefundResult;
  if (failure) {
    entry.status = 'failed';
    entry.failure = failure;
    answer = { status: 'failed', reference, ...failure };
  } else if (!payment.bank) {
    entry.status = 'succeeded';
    payment.amountRefunded += input.amount;
    answer = { status: 'succeeded', reference };
  } else {
    // Bank refunds travel back through the clearing system: they settle later.
    entry.settlement = { at: now() + settleMs, to: { status: 'succeeded' }, callback: true };
    payment.amountRefunded += input.amount;
    answer = { status: 'pending', reference };
  }
  ledger.addRefund(entry);
  if (answer.status === 'pending') announce({ kind: 'refund', reference });
  ledger.remember('refund', input.idempotencyKey, fingerprint, { kind: 'result', value: answer, reference });
  return answer;
}

/** The normalised state of a ledger entry, as `sync` answers and callbacks announce it. */
export function stateOf(kind: 'payment' | 'refund', entry: PaymentEntry | RefundEntry): SyncResult {
  const { reference } = entry;
  if (entry.status === 'failed') {
    const failure = entry.failure ?? { code: 'processing_error', message: 'The operation failed.' };
    if (kind === 'refund') return { kind, reference, status: 'failed', code: failure.code, message: failure.message };
    return { kind, reference, status: 'failed', ...failure };
  }
  if (kind === 'refund') {
    switch (entry.status) {
      case 'pending':
      case 'succeeded':
        return { kind, reference, status: entry.status };
      default:
        throw new Error(`A refund cannot be ${entry.status}.`);
    }
  }
  return { kind, reference, status: entry.status };
}

export async function sync({ ledger }: Deps, input: SyncInput): Promise<SyncResult> {
  const { kind } = input;
  const reference =
    input.reference ??
    (input.idempotencyKey ? await ledger.referenceByKey(kind === 'payment' ? 'authorize' : 'refund', input.idempotencyKey) : undefined);
  const entry = reference === undefined ? undefined : kind === 'payment' ? await ledger.payment(reference) : await ledger.refund(reference);
  if (!entry) return { kind, status: 'not_found' };
  return stateOf(kind, entry);
}
