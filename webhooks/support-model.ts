import { type Static, Type } from '@sinclair/typebox';
import { EndpointStatus, Timestamp } from './model';

/** TypeBox schemas of the support routes of the webhooks (webhooks/support-routes.ts). */

const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

/** How many hours of attempts the health of an endpoint counts. */
export const HEALTH_WINDOW_HOURS = 24;

export const WebhookEndpointHealth = Type.Object(
  {
    object: Type.Literal('webhook_endpoint_health'),
    endpoint: Type.String({ description: 'The endpoint id (we_...).' }),
    status: EndpointStatus,
    disabled_reason: Type.Union([Type.String(), Type.Null()], {
      description: 'Why the platform disabled it: `gone` (it answered 410) or `failing` (every attempt failed for five days); null when enabled or disabled by a person.',
    }),
    failing_since: Type.Union([Timestamp, Type.Null()], { description: 'The first failed attempt after the last success; null while deliveries succeed.' }),
    window_hours: Type.Integer({ description: 'The attempts counted below: those made in the last this many hours.' }),
    succeeded: Type.Integer({ minimum: 0 }),
    failed: Type.Integer({ minimum: 0 }),
    success_ratio: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], { description: 'succeeded / (succeeded + failed); null when nothing was attempted in the window.' }),
    pending: Type.Integer({ minimum: 0, description: 'Deliveries waiting to be sent: due now or scheduled as a retry.' }),
    oldest_pending_since: Type.Union([Timestamp, Type.Null()], { description: 'When the oldest undelivered event was first queued for this endpoint (the start of its chain of retries).' }),
    next_attempt_at: NullableTimestamp,
    last_success_at: NullableTimestamp,
    last_failure_at: NullableTimestamp,
  },
  { description: 'Delivery health of one webhook endpoint, computed from its delivery attempts.' },
);
export type WebhookEndpointHealth = Static<typeof WebhookEndpointHealth>;
