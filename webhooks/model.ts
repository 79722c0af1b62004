import { type Static, Type } from '@sinclair/typebox';

/** TypeBox schemas of the webhook API (API.md "Events and webhooks"): the single source of its shapes. */

/** An event type or `*`, spelled out so the literal types survive into Static<> (a test checks it matches EVENT_TYPES). */
export const EventTypeOrWildcard = Type.Union(
  [
    Type.Literal('*'),
    Type.Literal('payment.created'),
    Type.Literal('payment.processing'),
    Type.Literal('payment.requires_capture'),
    Type.Literal('payment.succeeded'),
    Type.Literal('payment.failed'),
    Type.Literal('payment.canceled'),
    Type.Literal('refund.created'),
    Type.Literal('refund.succeeded'),
    Type.Literal('refund.failed'),
  ],
  { description: 'An event type, or `*` for every type.' },
);

const Url = Type.String({
  minLength: 1,
  maxLength: 2048,
  description: 'Where events are POSTed. Must be https:// and resolve only to public addresses (unless the deployment sets NIMBUS_WEBHOOK_ALLOW_PRIVATE=true).',
});
const EnabledEvents = Type.Array(EventTypeOrWildcard, { minItems: 1, maxItems: 32, uniqueItems: true });
const Description = Type.Union([Type.String({ maxLength: 500 }), Type.Null()]);
export const EndpointStatus = Type.Union([Type.Literal('enabled'), Type.Literal('disabled')]);
export type EndpointStatus = Static<typeof EndpointStatus>;

export const CreateEndpointBody = Type.Object(
  { url: Url, enabled_events: EnabledEvents, description: Type.Optional(Description) },
  { additionalProperties: false },
);
export type CreateEndpointBody = Static<typeof CreateEndpointBody>;

export const UpdateEndpointBody = Type.Object(
  {
    url: Type.Optional(Url),
    enabled_events: Type.Optional(EnabledEvents),
    status: Type.Optional(EndpointStatus),
    description: Type.Optional(Description),
  },
  { additionalProperties: false },
);
export type UpdateEndpointBody = Static<typeof UpdateEndpointBody>;

export const RedeliverBody = Type.Object(
  { endpoint: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Only this endpoint (we_...); default: every enabled endpoint subscribed to the event type.' })) },
  { additionalProperties: false },
);
export type RedeliverBody = Static<typeof RedeliverBody>;

export const Timestamp = Type.String({ format: 'date-time' });

export const WebhookEndpoint = Type.Object({
  id: Type.String({ examples: ['we_1a2b3c'] }),
  object: Type.Literal('webhook_endpoint'),
  url: Type.String(),
  enabled_events: Type.Array(EventTypeOrWildcard),
  status: EndpointStatus,
  description: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type WebhookEndpoint = Static<typeof WebhookEndpoint>;

export const WebhookEndpointWithSecret = Type.Composite([
  WebhookEndpoint,
  Type.Object({ secret: Type.String({ description: 'whsec_ + base64 of 32 random bytes. Shown only here: store it now.' }) }),
]);

export const DeletedEndpoint = Type.Object({
  id: Type.String(),
  object: Type.Literal('webhook_endpoint'),
  deleted: Type.Literal(true),
});

export const DeliveryStatus = Type.Union([Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('pending')]);
export type DeliveryStatus = Static<typeof DeliveryStatus>;

export const WebhookDelivery = Type.Object({
  id: Type.String({ examples: ['wd_1a2b3c'] }),
  object: Type.Literal('webhook_delivery'),
  endpoint: Type.String(),
  event: Type.String({ description: 'The event id (also the webhook-id header).' }),
  event_type: Type.String(),
  attempt: Type.Integer({ minimum: 1, description: 'Counts from 1 within one chain of retries; a redelivery starts a new chain.' }),
  status: DeliveryStatus,
  response_status: Type.Union([Type.Integer(), Type.Null()], { description: 'Any HTTP answer, 3xx included (redirects are not followed and count as failures).' }),
  response_body: Type.Union([Type.String(), Type.Null()], { description: 'The first 4 KiB of the answer.' }),
  error: Type.Union([Type.String(), Type.Null()], { description: 'Network error, timeout or refused address.' }),
  duration_ms: Type.Union([Type.Integer(), Type.Null()]),
  created_at: Timestamp,
  next_attempt_at: Type.Union([Timestamp, Type.Null()], { description: 'When a pending attempt is due.' }),
});
export type WebhookDelivery = Static<typeof WebhookDelivery>;

const list = <T extends ReturnType<typeof Type.Object>>(item: T) =>
  Type.Object({ object: Type.Literal('list'), data: Type.Array(item), has_more: Type.Boolean() });

export const WebhookEndpointList = list(WebhookEndpoint);
export const WebhookDeliveryList = list(WebhookDelivery);

export const Redelivery = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(WebhookDelivery, { description: 'The deliveries queued, one per endpoint.' }),
  has_more: Type.Literal(false),
});

export const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ description: 'How many objects to return, 1 to 100 (default 10).', pattern: '^[0-9]+$' })),
    starting_after: Type.Optional(Type.String({ description: 'An object id: return the page just older than it.' })),
    ending_before: Type.Optional(Type.String({ description: 'An object id: return the page just newer than it.' })),
    created_gte: Type.Optional(Type.String({ description: 'RFC 3339 timestamp, inclusive.', format: 'date-time' })),
    created_lte: Type.Optional(Type.String({ description: 'RFC 3339 timestamp, inclusive.', format: 'date-time' })),
  },
  { additionalProperties: false },
);


import { ErrorEnvelope, type ErrorStatus, errorResponses as kernelErrorResponses, IdParams } from '../runtime/http/schemas';

export { ErrorEnvelope, IdParams };

/** `response` entries for the listed error statuses plus 500 and 503, all with the one error envelope (runtime/http/schemas.ts). */
export function errorResponses(...statuses: ErrorStatus[]) {
  return kernelErrorResponses(statuses, { 409: 'The object is in the wrong state (webhook_endpoint_disabled), or idempotency_key_in_use (with Retry-After).' });
}
