import { Type, type Static } from '@sinclair/typebox';

/** Every request is pinned to this version: the shapes below and the vendored contract are of it. */
export const STRIPE_API_VERSION = '2023-08-16';
export const STRIPE_API_BASE = 'https://api.stripe.com';

/**
 * Credentials and settings, read from STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET and
 * STRIPE_BASE_URL. The base URL must be https, except on loopback (the test server), so
 * the secret key never crosses a network in clear text.
 */
export const StripeCredentials = Type.Object({
  secretKey: Type.String({
    pattern: '^(sk|rk)_(test|live)_[A-Za-z0-9_]{8,}$',
    description: 'Secret (sk_) or restricted (rk_) key; a _test_ key turns on test mode.',
  }),
  webhookSecret: Type.String({ pattern: '^whsec_[A-Za-z0-9+/=_-]{8,}$', description: 'Signing secret of the webhook endpoint.' }),
  baseUrl: Type.Optional(
    Type.String({
      pattern: '^(https://[^\\s/]+|http://(127\\.0\\.0\\.1|localhost|\\[::1\\])(:[0-9]{1,5})?)/?$',
      default: STRIPE_API_BASE,
      description: 'Default https://api.stripe.com; plain http only on loopback.',
    }),
  ),
});
export type StripeCredentials = Static<typeof StripeCredentials>;

/** PaymentIntent statuses of API version 2023-08-16 (the `status` enum of the vendored contract). */
export const PaymentIntentStatus = Type.Union([
  Type.Literal('requires_payment_method'),
  Type.Literal('requires_confirmation'),
  Type.Literal('requires_action'),
  Type.Literal('processing'),
  Type.Literal('requires_capture'),
  Type.Literal('canceled'),
  Type.Literal('succeeded'),
]);
export type PaymentIntentStatus = Static<typeof PaymentIntentStatus>;

/** Stripe's `api_errors` object, as far as the connector reads it. */
export const StripeErrorDetails = Type.Object({
  type: Type.String(),
  code: Type.Optional(Type.String()),
  decline_code: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
  param: Type.Optional(Type.String()),
});
export type StripeErrorDetails = Static<typeof StripeErrorDetails>;

/** The fields of a PaymentIntent the connector reads; Stripe sends many more. */
export const PaymentIntent = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 255 }),
  object: Type.Literal('payment_intent'),
  status: PaymentIntentStatus,
  amount: Type.Integer(),
  amount_capturable: Type.Optional(Type.Integer()),
  amount_received: Type.Optional(Type.Integer()),
  currency: Type.String(),
  last_payment_error: Type.Optional(Type.Union([StripeErrorDetails, Type.Null()])),
  metadata: Type.Optional(Type.Record(Type.String(), Type.String())),
});
export type PaymentIntent = Static<typeof PaymentIntent>;

/** An error answer; card errors on a PaymentIntent carry the PaymentIntent as it now stands. */
export const StripeErrorBody = Type.Object({
  error: Type.Composite([StripeErrorDetails, Type.Object({ payment_intent: Type.Optional(PaymentIntent) })]),
});
export type StripeErrorBody = Static<typeof StripeErrorBody>;

/**
 * Refund statuses as Stripe documents them. The contract types `status` as a nullable
 * string, so anything else is read as "not final yet" (see transformers.refundState).
 */
export const RefundStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('requires_action'),
  Type.Literal('succeeded'),
  Type.Literal('failed'),
  Type.Literal('canceled'),
]);
export type RefundStatus = Static<typeof RefundStatus>;

export const Refund = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 255 }),
  object: Type.Literal('refund'),
  amount: Type.Integer(),
  status: Type.Union([Type.String(), Type.Null()]),
  failure_reason: Type.Optional(Type.String()),
  payment_intent: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});
export type Refund = Static<typeof Refund>;

export const PaymentIntentSearchResult = Type.Object({
  object: Type.Literal('search_result'),
  data: Type.Array(PaymentIntent),
});

/** A webhook event; `data.object` is read with the schema its type implies. */
export const StripeEvent = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 255 }),
  object: Type.Literal('event'),
  type: Type.String({ minLength: 1 }),
  created: Type.Integer(),
  data: Type.Object({ object: Type.Record(Type.String(), Type.Unknown()) }),
});
export type StripeEvent = Static<typeof StripeEvent>;

/** The metadata key under which NimbusPay's idempotency key is stored, for lookups after a lost answer. */
export const IDEMPOTENCY_METADATA_KEY = 'nimbus_idempotency_key';
