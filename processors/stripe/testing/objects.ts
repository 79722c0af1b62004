import { randomBytes } from 'node:crypto';
import type { CardDecline, TestPaymentMethod } from './payment-methods.ts';

/**
 * The Stripe objects of the test server, as records, and their JSON as Stripe 2023-08-16
 * answers it (every field of the vendored `payment_intent`, `refund`, `api_errors` and
 * `event` schemas that Stripe fills for a card payment).
 */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function stripeId(prefix: string, length = 24): string {
  return `${prefix}_${[...randomBytes(length)].map((byte) => BASE62[byte % 62]).join('')}`;
}

export type ErrorDetails = {
  type: 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error';
  message: string;
  code?: string;
  decline_code?: string;
  param?: string;
  charge?: string;
  payment_intent?: Record<string, unknown>;
};

export type IntentStatus = 'requires_payment_method' | 'requires_confirmation' | 'requires_action' | 'processing' | 'requires_capture' | 'canceled' | 'succeeded';

export type IntentRecord = {
  id: string;
  created: number;
  amount: number;
  currency: string;
  captureMethod: 'automatic' | 'manual';
  status: IntentStatus;
  amountCapturable: number;
  amountReceived: number;
  description: string | null;
  metadata: Record<string, string>;
  paymentMethod: string | null;
  method?: TestPaymentMethod;
  latestCharge: string | null;
  lastPaymentError: ErrorDetails | null;
  canceledAt: number | null;
  cancellationReason: string | null;
  clientSecret: string;
};

export type RefundRecord = {
  id: string;
  created: number;
  amount: number;
  currency: string;
  charge: string;
  paymentIntent: string;
  reason: string | null;
  metadata: Record<string, string>;
  status: 'pending' | 'succeeded' | 'failed' | 'canceled' | 'requires_action';
  failureReason?: string;
  balanceTransaction: string;
  failureBalanceTransaction?: string;
};

export function docUrl(code: string): string {
  return `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}`;
}

export function cardErrorDetails(decline: CardDecline, charge: string): ErrorDetails {
  return {
    type: 'card_error',
    code: decline.code,
    ...(decline.declineCode ? { decline_code: decline.declineCode } : {}),
    message: decline.message,
    ...(decline.param ? { param: decline.param } : {}),
    charge,
  };
}

function errorJson(details: ErrorDetails): Record<string, unknown> {
  return { ...details, ...(details.code ? { doc_url: docUrl(details.code) } : {}) };
}

export function errorBody(details: ErrorDetails): { error: Record<string, unknown> } {
  return { error: { ...errorJson(details), request_log_url: `https://dashboard.stripe.com/test/logs/${stripeId('req', 14)}` } };
}

export function paymentIntentJson(intent: IntentRecord): Record<string, unknown> {
  return {
    id: intent.id,
    object: 'payment_intent',
    amount: intent.amount,
    amount_capturable: intent.amountCapturable,
    amount_received: intent.amountReceived,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: intent.canceledAt,
    cancellation_reason: intent.cancellationReason,
    capture_method: intent.captureMethod,
    client_secret: intent.clientSecret,
    confirmation_method: 'automatic',
    created: intent.created,
    currency: intent.currency,
    customer: null,
    description: intent.description,
    invoice: null,
    last_payment_error: intent.lastPaymentError ? errorJson(intent.lastPaymentError) : null,
    latest_charge: intent.latestCharge,
    livemode: false,
    metadata: intent.metadata,
    next_action:
      intent.status === 'requires_action'
        ? { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: 'https://hooks.stripe.com/redirect/authenticate/src_test', source: 'src_test' } }
        : null,
    on_behalf_of: null,
    payment_method: intent.paymentMethod,
    payment_method_options: {
      card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' },
    },
    payment_method_types: ['card'],
    processing: null,
    receipt_email: null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: intent.status,
    transfer_data: null,
    transfer_group: null,
  };
}

export function refundJson(refund: RefundRecord): Record<string, unknown> {
  return {
    id: refund.id,
    object: 'refund',
    amount: refund.amount,
    balance_transaction: refund.balanceTransaction,
    charge: refund.charge,
    created: refund.created,
    currency: refund.currency,
    ...(refund.failureReason ? { failure_reason: refund.failureReason, failure_balance_transaction: refund.failureBalanceTransaction } : {}),
    metadata: refund.metadata,
    payment_intent: refund.paymentIntent,
    reason: refund.reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: refund.status,
    transfer_reversal: null,
  };
}

export type EventRecord = { id: string; type: string; created: number; object: Record<string, unknown>; idempotencyKey: string | null };

export function eventJson(event: EventRecord, apiVersion: string): Record<string, unknown> {
  return {
    id: event.id,
    object: 'event',
    api_version: apiVersion,
    created: event.created,
    data: { object: event.object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: event.idempotencyKey ? stripeId('req', 14) : null, idempotency_key: event.idempotencyKey },
    type: event.type,
  };
}
