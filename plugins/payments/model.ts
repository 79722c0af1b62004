import { type Static, type TNull, type TSchema, type TUnion, Type, TypeGuard } from '@sinclair/typebox';
import { ListQueryProperties } from '../../runtime/pagination';
import type { AnyRegistry, PaymentMethodInput } from '../../runtime/registry/index.ts';
import { MAX_AMOUNT, SUPPORTED_CURRENCIES } from './service/currencies';

/**
 * The payments API as TypeBox schemas: request bodies (checked by Elysia, explained as
 * API.md 400s), response objects (the OpenAPI document) and the types of the services.
 * `payment_method` is not a closed union: {@link paymentSchemas} builds the create body,
 * the payment object and the event from the payment methods the registry holds.
 */

/** `payment_method` of a payment: `{ type, <type>: public view }`, whatever methods are registered. */
export type PublicPaymentMethod = { type: string } & Record<string, unknown>;

/** Stand-ins until {@link paymentSchemas} puts the registry's unions in their place. */
const PaymentMethodRequest = Type.Unsafe<PaymentMethodInput>(Type.Object({ type: Type.String() }));
const PaymentMethodPublic = Type.Unsafe<PublicPaymentMethod>(Type.Object({ type: Type.String() }));

/**
 * `T` or null. A union of literals (an enum) gets null as one more member of the same
 * union: nested, @elysiajs/openapi would merge it into `type: [string, null]` with an
 * `enum` that still lacks null, a document in which null breaks the schema.
 */
export function Nullable<T extends TSchema>(schema: T): TUnion<[T, TNull]> {
  const members: TSchema[] = TypeGuard.IsUnion(schema) && schema.anyOf.every((member) => TypeGuard.IsLiteral(member)) ? schema.anyOf : [schema];
  return Type.Union([...members, Type.Null()]) as unknown as TUnion<[T, TNull]>;
}

const Timestamp = Type.String({ format: 'date-time', description: 'RFC 3339, UTC.' });

export const Metadata = Type.Object(
  {},
  {
    additionalProperties: Type.String({ maxLength: 500 }),
    maxProperties: 50,
    description: 'String-to-string map: at most 50 keys, keys up to 40 characters, values up to 500.',
  },
);
export type Metadata = Static<typeof Metadata>;

export const PAYMENT_STATUSES = ['requires_confirmation', 'processing', 'requires_capture', 'succeeded', 'failed', 'canceled'] as const;
// Written out (not mapped from the array): Elysia's response typing needs literal tuples.
export const PaymentStatus = Type.Union([Type.Literal('requires_confirmation'), Type.Literal('processing'), Type.Literal('requires_capture'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('canceled')]);
export type PaymentStatus = Static<typeof PaymentStatus>;

export const CaptureMethod = Type.Union([Type.Literal('automatic'), Type.Literal('manual')]);
export type CaptureMethod = Static<typeof CaptureMethod>;

export const CANCELLATION_REASONS = ['requested_by_customer', 'duplicate', 'fraudulent', 'abandoned'] as const;
export const CancellationReason = Type.Union([Type.Literal('requested_by_customer'), Type.Literal('duplicate'), Type.Literal('fraudulent'), Type.Literal('abandoned')]);
export type CancellationReason = Static<typeof CancellationReason>;

const Amount = Type.Integer({ minimum: 1, maximum: MAX_AMOUNT, description: 'Integer minor units (whole units for JPY, KRW).' });

const createPaymentBody = (paymentMethod: typeof PaymentMethodRequest) => Type.Object(
  {
    amount: Amount,
    currency: Type.String({ description: `Uppercase ISO 4217 code, one of ${SUPPORTED_CURRENCIES.join(', ')}.`, example: 'EUR' }),
    capture_method: Type.Optional(CaptureMethod),
    confirm: Type.Optional(Type.Boolean({ description: 'Default true. false leaves the payment in requires_confirmation.' })),
    payment_method: paymentMethod,
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    metadata: Type.Optional(Metadata),
    processor: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'Force one processor (by id) instead of routing.' })),
  },
  { additionalProperties: false },
);
export type CreatePaymentBody = Static<ReturnType<typeof createPaymentBody>>;

export const CapturePaymentBody = Type.Object(
  {
    amount_to_capture: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_AMOUNT, description: 'At most amount_capturable; default all of it. The rest is released.' }),
    ),
  },
  { additionalProperties: false },
);
export type CapturePaymentBody = Static<typeof CapturePaymentBody>;

export const CancelPaymentBody = Type.Object({ cancellation_reason: Type.Optional(CancellationReason) }, { additionalProperties: false });
export type CancelPaymentBody = Static<typeof CancelPaymentBody>;

export const PaymentFailure = Type.Object({
  code: Type.String({ description: 'card_declined, expired_card, incorrect_cvc, processing_error, or a bank return code (R01, AC04).' }),
  decline_code: Type.Optional(Type.String({ description: 'Why a card was declined, for card_declined.' })),
  message: Type.String(),
});
export type PaymentFailure = Static<typeof PaymentFailure>;

const payment = (paymentMethod: typeof PaymentMethodPublic) => Type.Object(
  {
    id: Type.String({ pattern: '^pay_' }),
    object: Type.Literal('payment'),
    status: PaymentStatus,
    amount: Type.Integer(),
    currency: Type.String(),
    capture_method: CaptureMethod,
    amount_capturable: Type.Integer(),
    amount_received: Type.Integer(),
    amount_refunded: Type.Integer({ description: 'Sum of succeeded refunds.' }),
    payment_method: paymentMethod,
    processor: Nullable(Type.String({ description: 'The processor that served the payment.' })),
    processor_reference: Nullable(Type.String()),
    failure: Nullable(PaymentFailure),
    cancellation_reason: Nullable(Type.String({ description: 'As requested, or automatic when an authorization expired (as Stripe does).' })),
    description: Nullable(Type.String()),
    metadata: Metadata,
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { description: 'A payment. Full card numbers, CVCs and account numbers never appear here.' },
);
export type Payment = Static<ReturnType<typeof payment>>;

export const ListPaymentsQuery = Type.Object(
  { ...ListQueryProperties, status: Type.Optional(Type.String({ description: `One of ${PAYMENT_STATUSES.join(', ')}.` })) },
  { additionalProperties: false },
);

export const REFUND_REASONS = ['requested_by_customer', 'duplicate', 'fraudulent'] as const;
export const RefundReason = Type.Union([Type.Literal('requested_by_customer'), Type.Literal('duplicate'), Type.Literal('fraudulent')]);

export const CreateRefundBody = Type.Object(
  {
    payment: Type.String({ minLength: 1, maxLength: 255, description: 'The id of a succeeded payment.' }),
    amount: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_AMOUNT, description: 'Default: all that remains refundable.' })),
    reason: Type.Optional(RefundReason),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
export type CreateRefundBody = Static<typeof CreateRefundBody>;

export const RefundStatus = Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]);
export type RefundStatus = Static<typeof RefundStatus>;

export const RefundFailure = Type.Object({ code: Type.String(), message: Type.String() });

export const Refund = Type.Object({
  id: Type.String({ pattern: '^re_' }),
  object: Type.Literal('refund'),
  payment: Type.String(),
  amount: Type.Integer(),
  currency: Type.String(),
  status: RefundStatus,
  reason: Nullable(RefundReason),
  failure: Nullable(RefundFailure),
  metadata: Metadata,
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Refund = Static<typeof Refund>;

export const ListRefundsQuery = Type.Object(
  { ...ListQueryProperties, payment: Type.Optional(Type.String({ description: 'Only the refunds of this payment.' })) },
  { additionalProperties: false },
);

export const EventType = Type.Union([Type.Literal('payment.created'), Type.Literal('payment.processing'), Type.Literal('payment.requires_capture'), Type.Literal('payment.succeeded'), Type.Literal('payment.failed'), Type.Literal('payment.canceled'), Type.Literal('refund.created'), Type.Literal('refund.succeeded'), Type.Literal('refund.failed')]);

const event = (paymentObject: ReturnType<typeof payment>) =>
  Type.Object({
    id: Type.String({ pattern: '^evt_' }),
    object: Type.Literal('event'),
    type: EventType,
    created_at: Timestamp,
    data: Type.Object({
      object: Type.Union([paymentObject, Refund], { description: 'The payment or refund as of the change.' }),
    }),
  });

/**
 * The schemas whose `payment_method` comes from the registry: one variant per registered
 * payment method, in the create body (validated by Elysia, explained field by field) and
 * in the payment object (the OpenAPI document and response serialisation).
 */
export function paymentSchemas(registry: Pick<AnyRegistry, 'paymentMethodRequest' | 'paymentMethodPublic'>) {
  const Payment = payment(Type.Unsafe<PublicPaymentMethod>(registry.paymentMethodPublic));
  return {
    CreatePaymentBody: createPaymentBody(Type.Unsafe<PaymentMethodInput>(registry.paymentMethodRequest)),
    Payment,
    Event: event(Payment),
  };
}
export type PaymentSchemas = ReturnType<typeof paymentSchemas>;

export const ListEventsQuery = Type.Object(
  {
    ...ListQueryProperties,
    type: Type.Optional(Type.String({ description: 'An event type, or a prefix wildcard such as payment.* (as Stripe allows).' })),
    object_id: Type.Optional(Type.String({ description: 'Only events about this payment or refund (a NimbusPay addition).' })),
  },
  { additionalProperties: false },
);

import { ErrorEnvelope, type ErrorStatus, errorResponses as kernelErrorResponses } from '../../runtime/http/schemas';

export { IdParams } from '../../runtime/http/schemas';

export const ListOf = <T extends TSchema>(item: T) =>
  Type.Object({ object: Type.Literal('list'), data: Type.Array(item), has_more: Type.Boolean() });

const ERROR_DESCRIPTIONS: Partial<Record<ErrorStatus, string>> = {
  402: 'The card was declined (card_error: card_declined with a decline_code, expired_card, incorrect_cvc, processing_error).',
  409: 'Wrong state (payment_unexpected_state), refund over the captured amount (refund_exceeds_captured), or idempotency_key_in_use (with Retry-After).',
  503: 'processor_unavailable (with Retry-After when a retry may succeed) or database_unavailable (with Retry-After).',
};

/** `response` entries for the listed error statuses plus 500 and 503, all with the one error envelope (runtime/http/schemas.ts). */
export function errorResponses(...statuses: ErrorStatus[]): { [status: string]: typeof ErrorEnvelope } {
  return kernelErrorResponses(statuses, ERROR_DESCRIPTIONS);
}

/** Caps on a tenant's routing (`PUT /v1/tenants/:id/routing`). */
export const MAX_ROUTING_RULES = 50;
export const MAX_RULE_PROCESSORS = 10;

const ProcessorId = Type.String({ minLength: 1, maxLength: 40, description: 'A registered processor id.' });

/**
 * One routing rule. `currency` null or absent: any currency. Accepting null lets a
 * client PUT back exactly what GET answered.
 */
const routingRule = (registry: Pick<AnyRegistry, 'paymentMethodTypes' | 'processorIds'>) =>
  Type.Object(
    {
      method: Type.String({ minLength: 1, maxLength: 40, description: `A registered payment method type: ${registry.paymentMethodTypes.join(', ')}.`, example: 'card' }),
      currency: Type.Optional(Nullable(Type.String({ description: `Uppercase ISO 4217 code, one of ${SUPPORTED_CURRENCIES.join(', ')}. Absent or null: any currency.`, example: 'EUR' }))),
      processors: Type.Array(ProcessorId, {
        minItems: 1,
        maxItems: MAX_RULE_PROCESSORS,
        description:
          `The processors to try, in order, each at most once (registered here: ${registry.processorIds.join(', ')}). ` +
          'Each must take the method (in the rule\'s currency, when it names one). Processors not listed are not tried.',
      }),
    },
    { additionalProperties: false },
  );

/** The body of PUT and the answer of GET/PUT, with the registry's methods and processors in the descriptions. */
export function routingSchemas(registry: Pick<AnyRegistry, 'paymentMethodTypes' | 'processorIds'>) {
  const Rule = routingRule(registry);
  const Rules = Type.Array(Rule, {
    maxItems: MAX_ROUTING_RULES,
    description: `In order, at most ${MAX_ROUTING_RULES}: the first rule matching a payment's method (and currency, when the rule names one) applies. An empty list clears the routing.`,
  });
  return {
    RoutingBody: Type.Object({ rules: Rules }, { additionalProperties: false }),
    Routing: Type.Object(
      {
        object: Type.Literal('routing'),
        tenant: Type.String({ pattern: '^ten_' }),
        rules: Type.Array(
          Type.Object({
            method: Type.String(),
            currency: Nullable(Type.String({ description: 'null: any currency.' })),
            processors: Type.Array(Type.String()),
          }),
        ),
        updated_at: Nullable(Type.String({ format: 'date-time', description: 'RFC 3339, UTC; null when the routing was never set.' })),
      },
      { description: "A tenant's payment routing." },
    ),
  };
}
export type RoutingSchemas = ReturnType<typeof routingSchemas>;
export type RoutingRuleInput = Static<ReturnType<typeof routingRule>>;
export type RoutingBody = Static<RoutingSchemas['RoutingBody']>;
export type Routing = Static<RoutingSchemas['Routing']>;
