import {
  cardErrorDetails,
  paymentIntentJson,
  refundJson,
  stripeId,
  type ErrorDetails,
  type IntentRecord,
  type IntentStatus,
  type RefundRecord,
} from './objects.ts';
import { MINIMUM_AMOUNTS, TEST_PAYMENT_METHODS, type TestPaymentMethod } from './payment-methods.ts';

/**
 * The PaymentIntent and Refund state machine of the Stripe test server, following
 * Stripe's documentation: create-and-confirm with a test PaymentMethod, declines as 402
 * card errors, manual capture (full or partial, the rest released), cancel, refunds
 * bounded by what was received, and refunds that settle later (`settle()`).
 * Parameters arrive decoded and already checked against Stripe's request schema.
 */

export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly details: ErrorDetails,
  ) {
    super(details.message);
  }
}

type Params = Record<string, unknown>;
export type StateEvent = { type: string; object: Record<string, unknown> };

const invalid = (message: string, extra: Partial<ErrorDetails> = {}) => new StripeApiError(400, { type: 'invalid_request_error', message, ...extra });
const missing = (kind: string, id: string, param: string) =>
  new StripeApiError(404, { type: 'invalid_request_error', code: 'resource_missing', message: `No such ${kind}: '${id}'`, param });

const CANCELABLE: readonly IntentStatus[] = ['requires_payment_method', 'requires_capture', 'requires_confirmation', 'requires_action', 'processing'];

function dollars(amount: number): string {
  return `$${(amount / 100).toFixed(2)}`;
}

export function createStripeState(options: { now: () => number; emit: (event: StateEvent) => void; paymentMethods?: Record<string, TestPaymentMethod> }) {
  const intents = new Map<string, IntentRecord>();
  const refunds = new Map<string, RefundRecord>();
  /** Transitions Stripe makes "some time later", applied by settle(). */
  const later: Array<() => void> = [];
  const methods = { ...TEST_PAYMENT_METHODS, ...options.paymentMethods };
  const seconds = () => Math.floor(options.now() / 1000);
  const emitIntent = (type: string, intent: IntentRecord) => options.emit({ type, object: paymentIntentJson(intent) });
  const emitRefund = (type: string, refund: RefundRecord) => options.emit({ type, object: refundJson(refund) });

  function intentOf(id: string, param = 'intent'): IntentRecord {
    const intent = intents.get(id);
    if (!intent) throw missing('payment_intent', id, param);
    return intent;
  }

  function confirm(intent: IntentRecord, method: TestPaymentMethod): void {
    intent.latestCharge = stripeId('ch');
    switch (method.outcome.kind) {
      case 'approve':
        if (intent.captureMethod === 'manual') {
          intent.status = 'requires_capture';
          intent.amountCapturable = intent.amount;
          emitIntent('payment_intent.amount_capturable_updated', intent);
        } else {
          intent.status = 'succeeded';
          intent.amountReceived = intent.amount;
          emitIntent('payment_intent.succeeded', intent);
        }
        return;
      case 'authenticate':
        intent.latestCharge = null;
        intent.status = 'requires_action';
        emitIntent('payment_intent.requires_action', intent);
        return;
      case 'decline': {
        const error = cardErrorDetails(method.outcome.decline, intent.latestCharge);
        intent.status = 'requires_payment_method';
        intent.lastPaymentError = error;
        emitIntent('payment_intent.payment_failed', intent);
        throw new StripeApiError(402, { ...error, payment_intent: paymentIntentJson(intent) });
      }
    }
  }

  function createIntent(params: Params): Record<string, unknown> {
    const amount = params.amount as number;
    const currency = String(params.currency).toLowerCase();
    const minimum = MINIMUM_AMOUNTS[currency] ?? 1;
    if (amount < minimum) throw invalid(`Amount must be at least ${minimum} ${currency}`, { code: 'amount_too_small', param: 'amount' });
    const types = (params.payment_method_types as string[] | undefined) ?? ['card'];
    const paymentMethod = (params.payment_method as string | undefined) ?? null;
    const method = paymentMethod ? methods[paymentMethod] : undefined;
    if (paymentMethod && !method) throw missing('PaymentMethod', paymentMethod, 'payment_method');
    if (method && !types.includes('card')) {
      throw invalid('The provided PaymentMethod type (card) is not in payment_method_types.', { code: 'payment_intent_incompatible_payment_method', param: 'payment_method' });
    }
    const id = stripeId('pi');
    const intent: IntentRecord = {
      id,
      created: seconds(),
      amount,
      currency,
      captureMethod: params.capture_method === 'manual' ? 'manual' : 'automatic',
      status: paymentMethod ? 'requires_confirmation' : 'requires_payment_method',
      amountCapturable: 0,
      amountReceived: 0,
      description: (params.description as string | undefined) ?? null,
      metadata: { ...(params.metadata as Record<string, string> | undefined) },
      paymentMethod,
      method,
      latestCharge: null,
      lastPaymentError: null,
      canceledAt: null,
      cancellationReason: null,
      clientSecret: `${id}_secret_${stripeId('s').slice(2)}`,
    };
    intents.set(id, intent);
    emitIntent('payment_intent.created', intent);
    if (params.confirm === true) {
      if (!method) {
        throw invalid("You cannot confirm this PaymentIntent because it's missing a payment method.", { code: 'payment_intent_unexpected_state' });
      }
      confirm(intent, method);
    }
    return paymentIntentJson(intent);
  }

  function captureIntent(id: string, params: Params): Record<string, unknown> {
    const intent = intentOf(id);
    if (intent.status !== 'requires_capture') {
      throw invalid(
        `This PaymentIntent could not be captured because it has a status of ${intent.status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`,
        { code: 'payment_intent_unexpected_state' },
      );
    }
    const amount = (params.amount_to_capture as number | undefined) ?? intent.amountCapturable;
    if (amount < 1 || amount > intent.amountCapturable) {
      throw invalid(`The amount_to_capture must be between 1 and the amount_capturable (${intent.amountCapturable}).`, {
        code: amount < 1 ? 'parameter_invalid_integer' : 'amount_too_large',
        param: 'amount_to_capture',
      });
    }
    // One capture; whatever is not captured is released.
    Object.assign(intent, { status: 'succeeded', amountReceived: amount, amountCapturable: 0 });
    emitIntent('payment_intent.succeeded', intent);
    return paymentIntentJson(intent);
  }

  function cancelIntent(id: string, params: Params): Record<string, unknown> {
    const intent = intentOf(id);
    if (!CANCELABLE.includes(intent.status)) {
      throw invalid(
        `You cannot cancel this PaymentIntent because it has a status of ${intent.status}. Only a PaymentIntent with one of the following statuses may be canceled: ${CANCELABLE.join(', ')}.`,
        { code: 'payment_intent_unexpected_state' },
      );
    }
    Object.assign(intent, {
      status: 'canceled',
      amountCapturable: 0,
      canceledAt: seconds(),
      cancellationReason: (params.cancellation_reason as string | undefined) ?? null,
    });
    emitIntent('payment_intent.canceled', intent);
    return paymentIntentJson(intent);
  }

  /** Only what the connector asks: `metadata['key']:'value'`, exact match. */
  function searchIntents(params: Params): Record<string, unknown> {
    const match = /^metadata\['([^'\\]+)'\]:'((?:[^'\\]|\\.)*)'$/.exec(String(params.query));
    if (!match) throw invalid('The Stripe test server only understands searches of the form metadata[\'key\']:\'value\'.', { param: 'query' });
    const [, key, quoted] = match;
    const value = quoted!.replace(/\\(.)/g, '$1');
    const limit = (params.limit as number | undefined) ?? 10;
    const found = [...intents.values()].filter((intent) => intent.metadata[key!] === value).reverse();
    return {
      object: 'search_result',
      data: found.slice(0, limit).map(paymentIntentJson),
      has_more: found.length > limit,
      next_page: null,
      url: '/v1/payment_intents/search',
    };
  }

  function refundable(intent: IntentRecord): number {
    const taken = [...refunds.values()]
      .filter((refund) => refund.paymentIntent === intent.id && refund.status !== 'failed' && refund.status !== 'canceled')
      .reduce((sum, refund) => sum + refund.amount, 0);
    return intent.amountReceived - taken;
  }

  function createRefund(params: Params): Record<string, unknown> {
    const byCharge = params.charge ? [...intents.values()].find((intent) => intent.latestCharge === params.charge) : undefined;
    if (!params.payment_intent && !params.charge) {
      throw invalid('One of the following params should be provided for this request: payment_intent or charge.', { code: 'parameter_missing' });
    }
    const intent = params.payment_intent ? intentOf(String(params.payment_intent), 'payment_intent') : byCharge;
    if (!intent) throw missing('charge', String(params.charge), 'charge');
    if (intent.status !== 'succeeded' || !intent.latestCharge) {
      throw invalid(`This PaymentIntent (status ${intent.status}) has no successful charge to refund.`, { code: 'payment_intent_unexpected_state', param: 'payment_intent' });
    }
    const remaining = refundable(intent);
    if (remaining <= 0) throw invalid(`Charge ${intent.latestCharge} has already been refunded.`, { code: 'charge_already_refunded' });
    const amount = (params.amount as number | undefined) ?? remaining;
    if (amount < 1) throw invalid('Invalid positive integer', { code: 'parameter_invalid_integer', param: 'amount' });
    if (amount > remaining) {
      throw invalid(`Refund amount (${dollars(amount)}) is greater than unrefunded amount on charge (${dollars(remaining)})`, { param: 'amount' });
    }
    const behaviour = intent.method?.outcome.kind === 'approve' ? intent.method.outcome.refunds : 'succeed';
    const refund: RefundRecord = {
      id: stripeId('re'),
      created: seconds(),
      amount,
      currency: intent.currency,
      charge: intent.latestCharge,
      paymentIntent: intent.id,
      reason: (params.reason as string | undefined) ?? null,
      metadata: { ...(params.metadata as Record<string, string> | undefined) },
      status: behaviour === 'pending_then_succeed' ? 'pending' : 'succeeded',
      balanceTransaction: stripeId('txn'),
    };
    refunds.set(refund.id, refund);
    emitRefund('refund.created', refund);
    if (behaviour !== 'succeed') later.push(() => settleRefund(refund, behaviour === 'pending_then_succeed' ? 'succeeded' : 'failed'));
    return refundJson(refund);
  }

  function settleRefund(refund: RefundRecord, to: 'succeeded' | 'failed'): void {
    refund.status = to;
    if (to === 'failed') Object.assign(refund, { failureReason: 'expired_or_canceled_card', failureBalanceTransaction: stripeId('txn') });
    emitRefund('refund.updated', refund);
    emitRefund('charge.refund.updated', refund);
  }

  return {
    createIntent,
    retrieveIntent: (id: string) => paymentIntentJson(intentOf(id)),
    captureIntent,
    cancelIntent,
    searchIntents,
    createRefund,
    retrieveRefund(id: string): Record<string, unknown> {
      const refund = refunds.get(id);
      if (!refund) throw missing('refund', id, 'id');
      return refundJson(refund);
    },
    /** Applies every transition Stripe makes later (pending refunds settle, failing refunds fail). */
    settle(): number {
      const due = later.splice(0);
      for (const transition of due) transition();
      return due.length;
    },
    intent: (id: string) => intents.get(id),
    refund: (id: string) => refunds.get(id),
    intents: () => [...intents.values()],
  };
}

export type StripeState = ReturnType<typeof createStripeState>;
