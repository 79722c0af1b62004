import { createHmac } from 'node:crypto';
import { assertNever } from '../../runtime/assert-never.ts';
import { ProcessorError } from '../sdk/errors.ts';
import type { AuthorizeInputFor, ProcessorState } from '../sdk/index.ts';
import type { AuthorizeResult, RefundInput, RefundResult, SyncInput, SyncResult } from '../sdk/model.ts';
import { addBankingDays, isoDate } from './calendar.ts';
import { normalizeIban } from './identifiers.ts';
import type { AccountDetails, PaymentRecord, RefundRecord, Scheme } from './model.ts';
import { seal } from './seal.ts';
import type { Settings } from './settings.ts';
import { closeEntries, individualIdOf, keys, referenceFor, type Stream } from './store.ts';

/**
 * The five processor operations over the connector's state. None of them talks to the
 * bank: a debit is queued for the next cut-off (authorize answers `pending`), a refund is
 * queued as a credit back to the debtor, and `sync` answers from what the bank's status
 * files said so far.
 */

export type Methods = 'sepa_debit' | 'bank_transfer';
export type Deps = { state: ProcessorState; settings: Settings; now: () => number };

const refused = (code: string, message: string) => new ProcessorError(message, { retryable: false, code });

type Accepted = { scheme: Scheme; account: AccountDetails; mandate?: { reference: string; signedAt: string } };

/** The debit this method asks for, or a refusal that no retry (and no failover) would change. */
function accept(input: AuthorizeInputFor<Methods>, settings: Settings): Accepted {
  const method = input.paymentMethod;
  let accepted: Accepted;
  switch (method.type) {
    case 'sepa_debit': {
      const details = method.sepa_debit;
      accepted = {
        scheme: 'sepa',
        account: { scheme: 'sepa', iban: normalizeIban(details.iban), name: details.account_holder_name },
        mandate: { reference: details.mandate.reference, signedAt: details.mandate.signed_at },
      };
      break;
    }
    case 'bank_transfer': {
      const details = method.bank_transfer;
      if (details.scheme !== 'ach') {
        throw refused('payment_method_unsupported', 'A SEPA bank transfer is pushed by the payer; a debit file can only collect SEPA Direct Debits (sepa_debit).');
      }
      accepted = {
        scheme: 'ach',
        account: { scheme: 'ach', routing: details.routing_number, account: details.account_number, accountType: details.account_type, name: details.account_holder_name },
      };
      break;
    }
    default:
      return assertNever(method, 'bank-files payment method');
  }
  if (!settings.schemes.includes(accepted.scheme)) throw refused('scheme_not_configured', `This deployment has no ${accepted.scheme.toUpperCase()} account configured for bank files.`);
  const currency = accepted.scheme === 'sepa' ? 'EUR' : 'USD';
  if (input.currency !== currency) throw refused('currency_unsupported', `${accepted.scheme.toUpperCase()} debits are in ${currency}.`);
  // A debit cannot be held like a card authorization: the money moves at collection.
  if (!input.capture) throw refused('capture_method_unsupported', 'Bank debits are collected in full; capture_method manual is not available.');
  return accepted;
}

/** A keyed hash of the account (never the number itself), so a replay with another account is told apart. */
function accountFingerprint(settings: Settings, account: AccountDetails): string {
  const identifier = account.scheme === 'sepa' ? account.iban : `${account.routing}:${account.account}`;
  return createHmac('sha256', settings.keys.callback).update(`account:${identifier}`).digest('hex').slice(0, 32);
}

export const streamOf = (scheme: Scheme, kind: 'payment' | 'refund'): Stream => (scheme === 'ach' ? 'ach' : kind === 'payment' ? 'sepa-dd' : 'sepa-ct');

export async function authorize({ state, settings, now }: Deps, input: AuthorizeInputFor<Methods>): Promise<AuthorizeResult> {
  const accepted = accept(input, settings);
  const reference = referenceFor('payment', input.idempotencyKey);
  const fingerprint = [input.amount, input.currency, accepted.scheme, accountFingerprint(settings, accepted.account), accepted.mandate?.reference ?? ''].join('|');
  return state.transaction(async (tx) => {
    const existing = await tx.get<PaymentRecord>(keys.payment(reference));
    if (existing) {
      if (existing.fingerprint !== fingerprint) throw refused('idempotency_key_reused', 'This idempotency key was already used with different parameters.');
      return { status: 'pending', reference };
    }
    const queuedAt = new Date(now()).toISOString();
    const record: PaymentRecord = {
      reference,
      scheme: accepted.scheme,
      fingerprint,
      amount: input.amount,
      currency: input.currency,
      status: 'queued',
      queuedAt,
      account: seal(settings.keys.seal, keys.payment(reference), accepted.account),
      refunded: 0,
      refunds: [],
    };
    if (accepted.scheme === 'sepa' && settings.sepa && accepted.mandate) {
      const { creditor, mandateType } = settings.sepa;
      const mandateKey = keys.mandate(creditor.creditorId, accepted.mandate.reference);
      const mandate = await tx.get<{ first?: string; uses: number }>(mandateKey);
      if (mandateType === 'one_off' && mandate && mandate.uses > 0) {
        throw refused('mandate_already_used', 'This one-off mandate has already been collected; a new mandate is needed.');
      }
      const sequenceType = mandateType === 'one_off' ? 'OOFF' : mandate?.first ? 'RCUR' : 'FRST';
      await tx.put(mandateKey, { first: mandate?.first ?? reference, uses: (mandate?.uses ?? 0) + 1 });
      record.sepa = {
        creditorId: creditor.creditorId,
        creditorIban: creditor.iban,
        mandateReference: accepted.mandate.reference,
        mandateSignedAt: accepted.mandate.signedAt,
        sequenceType,
      };
    }
    if (accepted.scheme === 'ach' && settings.ach) record.ach = { secCode: settings.ach.secCode, individualId: individualIdOf(reference) };
    await tx.put(keys.payment(reference), record);
    await tx.put(keys.queue(streamOf(accepted.scheme, 'payment'), queuedAt, reference), reference);
    return { status: 'pending', reference };
  });
}

function refundFailed(reference: string, code: string, message: string): RefundResult {
  return { status: 'failed', reference, code, message };
}

/**
 * A refund of a settled debit is a credit back to the debtor's account at the next
 * cut-off (pending until the bank books it). A debit the debtor's bank already returned
 * has paid the money back: a refund then succeeds at once without a file, up to the
 * returned amount (this is how a return after settlement becomes a refund, README.md).
 */
export async function refund({ state, settings, now }: Deps, input: RefundInput): Promise<RefundResult> {
  const reference = referenceFor('refund', input.idempotencyKey);
  const fingerprint = [input.reference, input.amount, input.currency].join('|');
  return state.transaction(async (tx) => {
    const existing = await tx.get<RefundRecord>(keys.refund(reference));
    if (existing) {
      if (existing.fingerprint !== fingerprint) throw refused('idempotency_key_reused', 'This idempotency key was already used with different parameters.');
      // A replay tells where the refund stands now (the same object, maybe further along).
      if (existing.status === 'failed') return refundFailed(reference, existing.failure?.code ?? 'refund_failed', existing.failure?.message ?? 'The refund failed.');
      return existing.status === 'succeeded' ? { status: 'succeeded', reference } : { status: 'pending', reference };
    }
    const payment = await tx.get<PaymentRecord>(keys.payment(input.reference));
    if (!payment) throw refused('resource_missing', 'No such payment at this processor.');
    // `sync` may have reported an ACH debit settled by the calendar before the worker recorded it.
    if (achSettled(settings, payment, now())) {
      payment.status = 'succeeded';
      await tx.put(keys.payment(payment.reference), payment);
      await closeEntries(tx, payment.placement!.file, 1);
    }
    const record: RefundRecord = {
      reference,
      paymentReference: payment.reference,
      scheme: payment.scheme,
      fingerprint,
      amount: input.amount,
      currency: input.currency,
      status: 'failed',
      queuedAt: new Date(now()).toISOString(),
      viaReturn: false,
    };
    const fail = async (code: string, message: string) => {
      record.failure = { code, message };
      await tx.put(keys.refund(reference), record);
      return refundFailed(reference, code, message);
    };
    if (input.currency !== payment.currency) return fail('currency_mismatch', 'The refund currency differs from the payment currency.');
    if (payment.status !== 'succeeded') return fail('payment_unexpected_state', 'Only a settled debit can be refunded.');
    if (input.amount > payment.amount - payment.refunded) return fail('amount_too_large', 'The refund exceeds what remains of the payment.');
    if (payment.returned) {
      const left = payment.returned.amount - payment.returned.absorbed;
      if (input.amount > left) return fail('debit_returned', 'The debtor\'s bank returned this debit; nothing is left to pay back.');
      payment.returned.absorbed += input.amount;
      record.status = 'succeeded';
      record.viaReturn = true;
    } else if (!payment.account) {
      return fail('refund_unavailable', 'The account of this debit is no longer kept (refund window over); pay the customer back outside NimbusPay.');
    } else {
      record.status = 'queued';
      if (payment.scheme === 'ach') record.individualId = individualIdOf(reference);
      await tx.put(keys.queue(streamOf(payment.scheme, 'refund'), record.queuedAt, reference), reference);
    }
    payment.refunded += input.amount;
    payment.refunds.push(reference);
    await tx.put(keys.payment(payment.reference), payment);
    await tx.put(keys.refund(reference), record);
    return record.status === 'succeeded' ? { status: 'succeeded', reference } : { status: 'pending', reference };
  });
}

/** ACH has no positive confirmation: an entry no return came back for counts as settled on this date. */
export function achSettlesOn(settings: Settings, effectiveDate: string): string {
  return addBankingDays('fedach', effectiveDate, settings.ach?.settlementDays ?? 2);
}

export function achSettled(settings: Settings, record: PaymentRecord | RefundRecord, now: number): boolean {
  return record.scheme === 'ach' && record.status === 'submitted' && !!record.placement && achSettlesOn(settings, record.placement.date) <= isoDate(new Date(now));
}

export async function sync({ state, settings, now }: Deps, input: SyncInput): Promise<SyncResult> {
  const { kind } = input;
  const reference = input.reference ?? (input.idempotencyKey ? referenceFor(kind, input.idempotencyKey) : undefined);
  if (!reference) return { kind, status: 'not_found' };
  const record = await state.get<PaymentRecord | RefundRecord>(kind === 'payment' ? keys.payment(reference) : keys.refund(reference));
  if (!record) return { kind, status: 'not_found' };
  // Settlement by the calendar is answered here too, so reconciliation alone finishes ACH entries.
  const status = achSettled(settings, record, now()) ? 'succeeded' : record.status;
  switch (status) {
    case 'queued':
    case 'submitted':
      return { kind, reference, status: 'pending' };
    case 'succeeded':
      return { kind, reference, status: 'succeeded' };
    case 'failed': {
      const failure = record.failure ?? { code: 'processing_error', message: 'The bank did not take this entry.' };
      return kind === 'payment'
        ? { kind: 'payment', reference, status: 'failed', code: failure.code, message: failure.message }
        : { kind: 'refund', reference, status: 'failed', code: failure.code, message: failure.message };
    }
    default:
      return assertNever(status, 'bank-files entry status');
  }
}
