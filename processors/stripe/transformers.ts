import { Value } from '@sinclair/typebox/value';
import type { TSchema, Static } from '@sinclair/typebox';
import type {
  AuthorizeInputFor,
  AuthorizeResult,
  CancelInput,
  CaptureInput,
  DeclineCode,
  RefundInput,
  RefundResult,
  SyncResult,
  WebhookEvent,
} from '../sdk/index.ts';
import {
  IDEMPOTENCY_METADATA_KEY,
  PaymentIntent,
  Refund,
  RefundStatus,
  type StripeErrorDetails,
  type StripeEvent,
} from './model.ts';
import { testPaymentMethodFor } from './test-cards.ts';

/**
 * Pure mapping between NimbusPay's processor SDK and Stripe's API (2023-08-16): request
 * parameters out, normalised results in. No I/O, no clock; index.ts does the calls.
 */

export type StripeMethods = 'card' | 'card_token';
export type StripeMode = 'test' | 'live';
export type Form = Record<string, unknown>;

export function modeOf(secretKey: string): StripeMode {
  return /^(sk|rk)_test_/.test(secretKey) ? 'test' : 'live';
}

/** Reads a Stripe answer with the connector's schema; a mismatch means we cannot know what happened. */
export function read<S extends TSchema>(schema: S, value: unknown, what: string): Static<S> {
  if (!Value.Check(schema, value)) throw new Error(`Stripe answered a ${what} the connector cannot read.`);
  return value as Static<S>;
}

/** What to send as `payment_method`, or why nothing may be sent. */
export type PaymentMethodChoice =
  | { kind: 'send'; paymentMethod: string }
  /** Test mode, a valid number that is not one of Stripe's test cards: Stripe would decline it. */
  | { kind: 'not_a_test_card' }
  /** Live mode: raw card numbers go only to PCI-approved Stripe accounts; integrators send a card_token. */
  | { kind: 'card_data_not_accepted' }
  | { kind: 'token_invalid' };

const STRIPE_PAYMENT_METHOD_ID = /^(pm|card|src)_[A-Za-z0-9_]{1,250}$/;

export function paymentMethodFor(method: AuthorizeInputFor<StripeMethods>['paymentMethod'], mode: StripeMode): PaymentMethodChoice {
  switch (method.type) {
    case 'card': {
      if (mode === 'live') return { kind: 'card_data_not_accepted' };
      const paymentMethod = testPaymentMethodFor(method.card.number);
      return paymentMethod ? { kind: 'send', paymentMethod } : { kind: 'not_a_test_card' };
    }
    case 'card_token':
      return STRIPE_PAYMENT_METHOD_ID.test(method.card_token.token)
        ? { kind: 'send', paymentMethod: method.card_token.token }
        : { kind: 'token_invalid' };
  }
}

export function createIntentParams(input: Omit<AuthorizeInputFor<StripeMethods>, 'paymentMethod'>, paymentMethod: string): Form {
  return {
    amount: input.amount,
    currency: input.currency.toLowerCase(),
    capture_method: input.capture ? 'automatic' : 'manual',
    confirm: true,
    payment_method: paymentMethod,
    // Cards only: without a list, 2023-08-16 turns on automatic payment methods (redirects).
    payment_method_types: ['card'],
    ...(input.description ? { description: input.description } : {}),
    // Lets `sync` find the PaymentIntent when the answer to this request was lost.
    metadata: { [IDEMPOTENCY_METADATA_KEY]: input.idempotencyKey },
  };
}

export function captureParams(input: CaptureInput): Form {
  return { amount_to_capture: input.amount };
}

const CANCELLATION_REASONS = ['abandoned', 'duplicate', 'fraudulent', 'requested_by_customer'];

/** NimbusPay's `automatic` (authorization expired unused) is what Stripe calls abandoned. */
export function cancelParams(input: CancelInput): Form {
  const reason = input.reason === 'automatic' ? 'abandoned' : input.reason;
  return reason && CANCELLATION_REASONS.includes(reason) ? { cancellation_reason: reason } : {};
}

const REFUND_REASONS = ['duplicate', 'fraudulent', 'requested_by_customer'];

export function refundParams(input: RefundInput): Form {
  return {
    payment_intent: input.reference,
    amount: input.amount,
    ...(input.reason && REFUND_REASONS.includes(input.reason) ? { reason: input.reason } : {}),
    metadata: { [IDEMPOTENCY_METADATA_KEY]: input.idempotencyKey },
  };
}

/** Stripe's search syntax: a quoted value, with quotes and backslashes escaped. */
export function searchQueryFor(idempotencyKey: string): string {
  return `metadata['${IDEMPOTENCY_METADATA_KEY}']:'${idempotencyKey.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

export type Decline = { code: DeclineCode; declineCode?: string; message: string };

/** Until NimbusPay runs authentication flows, a card that asks for 3-D Secure is declined with Stripe's own code. */
export const AUTHENTICATION_REQUIRED: Decline = {
  code: 'card_declined',
  declineCode: 'authentication_required',
  message: 'The card requires authentication (3-D Secure), which NimbusPay does not support yet.',
};

const SAFE_CODE = /^[a-z][a-z0-9_]{0,63}$/;

/** Our own sentences: Stripe's texts can name ids, and ours stay the same whatever Stripe's wording. */
function declineMessage(code: DeclineCode, declineCode?: string): string {
  switch (code) {
    case 'expired_card':
      return 'Your card has expired.';
    case 'incorrect_cvc':
      return "Your card's security code is incorrect.";
    case 'card_declined':
      return declineCode === 'insufficient_funds' ? 'Your card has insufficient funds.' : 'Your card was declined.';
  }
}

/** Stripe's card error (`code`, `decline_code`) in NimbusPay's decline vocabulary. */
export function declineFrom(error: Pick<StripeErrorDetails, 'code' | 'decline_code'>): Decline {
  const declineCode = error.decline_code && SAFE_CODE.test(error.decline_code) ? error.decline_code : undefined;
  switch (error.code) {
    case 'expired_card':
      return { code: 'expired_card', message: declineMessage('expired_card') };
    case 'incorrect_cvc':
    case 'invalid_cvc':
      return { code: 'incorrect_cvc', message: declineMessage('incorrect_cvc') };
    case 'authentication_required':
    case 'payment_intent_authentication_failure':
      return AUTHENTICATION_REQUIRED;
    case 'card_declined': {
      const finer = declineCode ?? 'generic_decline';
      return { code: 'card_declined', declineCode: finer, message: declineMessage('card_declined', finer) };
    }
    default: {
      // incorrect_number, processing_error, card_decline_rate_limit_exceeded, ...: still the card's refusal.
      const finer = error.code && SAFE_CODE.test(error.code) ? error.code : (declineCode ?? 'generic_decline');
      return { code: 'card_declined', declineCode: finer, message: declineMessage('card_declined', finer) };
    }
  }
}

/** Where a PaymentIntent stands, in the SDK's words. */
export type IntentState = { status: 'pending' | 'authorized' | 'succeeded' | 'canceled' } | ({ status: 'failed' } & Decline);

export function intentState(intent: PaymentIntent): IntentState {
  switch (intent.status) {
    case 'succeeded':
      return { status: 'succeeded' };
    case 'requires_capture':
      return { status: 'authorized' };
    case 'processing':
      return { status: 'pending' };
    case 'canceled':
      return { status: 'canceled' };
    case 'requires_action':
      return { status: 'failed', ...AUTHENTICATION_REQUIRED };
    case 'requires_payment_method':
      // After a failed attempt Stripe keeps the error; without one the intent was never tried.
      return intent.last_payment_error ? { status: 'failed', ...declineFrom(intent.last_payment_error) } : { status: 'pending' };
    case 'requires_confirmation':
      // We always create and confirm in one call; someone else's unconfirmed intent is not final.
      return { status: 'pending' };
  }
}

export function authorizeResultFrom(intent: PaymentIntent): AuthorizeResult {
  const state = intentState(intent);
  const reference = intent.id;
  switch (state.status) {
    case 'succeeded':
    case 'authorized':
    case 'pending':
      return { status: state.status, reference };
    case 'failed':
      return { status: 'declined', reference, code: state.code, ...(state.declineCode ? { declineCode: state.declineCode } : {}), message: state.message };
    case 'canceled':
      // A fresh intent cannot be canceled: something else touched it. Unknown, not declined.
      throw new Error('Stripe answered a create with a canceled PaymentIntent.');
  }
}

export function paymentSyncFrom(intent: PaymentIntent): Extract<SyncResult, { kind: 'payment'; reference: string }> {
  const state = intentState(intent);
  const reference = intent.id;
  switch (state.status) {
    case 'failed':
      return { kind: 'payment', reference, status: 'failed', code: state.code, ...(state.declineCode ? { declineCode: state.declineCode } : {}), message: state.message };
    case 'pending':
    case 'authorized':
    case 'succeeded':
    case 'canceled':
      return { kind: 'payment', reference, status: state.status };
  }
}

export type RefundState = { status: 'pending' | 'succeeded' } | { status: 'failed'; code: string; message: string };

function refundStatusOf(refund: Refund): RefundStatus {
  // `status` is a nullable string in the contract: an unknown value is not final yet.
  return Value.Check(RefundStatus, refund.status) ? refund.status : 'pending';
}

export function refundState(refund: Refund): RefundState {
  const status = refundStatusOf(refund);
  switch (status) {
    case 'succeeded':
      return { status: 'succeeded' };
    case 'pending':
    case 'requires_action':
      return { status: 'pending' };
    case 'failed': {
      const code = refund.failure_reason && SAFE_CODE.test(refund.failure_reason) ? refund.failure_reason : 'refund_failed';
      return { status: 'failed', code, message: 'Stripe could not complete the refund.' };
    }
    case 'canceled':
      return { status: 'failed', code: 'refund_canceled', message: 'The refund was canceled at Stripe.' };
  }
}

export function refundResultFrom(refund: Refund): RefundResult {
  return { reference: refund.id, ...refundState(refund) };
}

const REFUND_EVENTS = new Set(['charge.refund.updated', 'refund.created', 'refund.updated']);

/**
 * A verified event as a status change: every `payment_intent.*` event carries the
 * PaymentIntent, refund events the Refund. Undefined for any other type.
 */
export function webhookEventFrom(event: StripeEvent): WebhookEvent | undefined {
  if (event.type.startsWith('payment_intent.')) {
    const intent = read(PaymentIntent, event.data.object, 'PaymentIntent event');
    return { eventId: event.id, ...paymentSyncFrom(intent) };
  }
  if (REFUND_EVENTS.has(event.type)) {
    const refund = read(Refund, event.data.object, 'Refund event');
    return { eventId: event.id, kind: 'refund', reference: refund.id, ...refundState(refund) };
  }
  return undefined;
}
