import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { ListQueryProperties } from '../../../runtime/pagination';

/** TypeBox schemas of the support API (`/v1/support/...`) the console is built on. */

const Timestamp = Type.String({ format: 'date-time' });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const TenantFilter = Type.Optional(Type.String({ description: 'Only this tenant (ten_...); default: every tenant.', pattern: '^ten_[A-Za-z0-9]{1,64}$' }));

export const SearchPaymentsQuery = Type.Object(
  {
    ...ListQueryProperties,
    tenant: TenantFilter,
    status: Type.Optional(Type.String({ description: 'requires_confirmation, processing, requires_capture, succeeded, failed or canceled.' })),
    method: Type.Optional(Type.String({ description: 'A payment method type, e.g. card, bank_transfer, sepa_debit.', maxLength: 40 })),
    processor: Type.Optional(Type.String({ description: 'A processor id, e.g. simulator, stripe.', maxLength: 40 })),
    currency: Type.Optional(Type.String({ description: 'An uppercase ISO 4217 code.', pattern: '^[A-Z]{3}$' })),
    amount_gte: Type.Optional(Type.String({ description: 'Minor units, inclusive.', pattern: '^[0-9]{1,15}$' })),
    amount_lte: Type.Optional(Type.String({ description: 'Minor units, inclusive.', pattern: '^[0-9]{1,15}$' })),
    q: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 500,
        description:
          "A payment id (pay_...), a processor's reference, a metadata value (any key, exact), or `key=value` for one metadata key. " +
          'Card data cannot be searched: it is not stored.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const SearchAuditQuery = Type.Object(
  {
    ...ListQueryProperties,
    tenant: TenantFilter,
    client: Type.Optional(Type.String({ description: 'Only what this client (the actor, cli_...) did.', maxLength: 100 })),
    action: Type.Optional(Type.String({ description: 'Only this action, e.g. `event.redeliver` or `POST /v1/payments`.', maxLength: 200 })),
    outcome: Type.Optional(Type.String({ description: 'succeeded or failed.' })),
  },
  { additionalProperties: false },
);

const Count = Type.Integer({ minimum: 0 });

export const ProcessorHealth = Type.Object({
  id: Type.String({ description: 'The processor id.' }),
  circuit: Type.Union([Type.Literal('closed'), Type.Literal('open')], { description: "This replica's circuit breaker for the processor (nimbus_processor_circuit_open)." }),
  calls: Count,
  errors: Type.Integer({ minimum: 0, description: 'Calls without an answer or refused (timeouts, processor errors, open circuit); declines are answers, not errors.' }),
  error_rate: Nullable(Type.Number({ minimum: 0, maximum: 1 })),
  p95_ms: Nullable(Type.Number({ minimum: 0, description: '95th percentile latency of the calls.' })),
});

export const HealthPoint = Type.Object({
  at: Timestamp,
  processor_calls: Count,
  processor_errors: Count,
  processor_p95_ms: Nullable(Type.Number({ minimum: 0 })),
  webhook_succeeded: Count,
  webhook_failed: Count,
});

export const SupportHealth = Type.Object(
  {
    object: Type.Literal('support_health'),
    environment: Type.Union([Type.Literal('development'), Type.Literal('staging'), Type.Literal('production')]),
    generated_at: Timestamp,
    readiness: Type.Object({
      status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
      checks: Type.Record(Type.String(), Type.String(), { description: 'As GET /health/ready answers them, for the replica that answered.' }),
    }),
    webhooks: Type.Object({
      queue_depth: Type.Integer({ minimum: 0, description: 'Deliveries pending (due or scheduled), every tenant: nimbus_webhook_queue_depth.' }),
      oldest_pending_age_seconds: Type.Number({ minimum: 0, description: 'Age of the oldest due delivery not sent yet: nimbus_webhook_oldest_pending_age_seconds.' }),
      failing_endpoints: Type.Integer({ minimum: 0, description: 'Enabled endpoints whose attempts have been failing since their last success.' }),
      disabled_endpoints: Type.Integer({ minimum: 0, description: 'Endpoints the platform disabled (410 Gone or five days of failures).' }),
    }),
    reconciliation: Type.Object({
      payments_open: Type.Integer({ minimum: 0, description: 'Payments whose outcome is still open at a processor (processing, or a capture or cancel sent).' }),
      payments_due: Type.Integer({ minimum: 0, description: 'Of those, the ones reconciliation should have asked about by now.' }),
      refunds_open: Type.Integer({ minimum: 0 }),
      refunds_due: Type.Integer({ minimum: 0 }),
      oldest_open_since: Nullable(Timestamp),
    }),
    processors: Type.Array(ProcessorHealth, { description: 'Every registered processor, with its calls of the last hour (every replica).' }),
    series: Type.Object(
      {
        step_seconds: Type.Integer(),
        points: Type.Array(HealthPoint, { description: 'Oldest first; minutes without any activity are zeros.' }),
      },
      { description: 'The last hour, minute by minute, from the recorded processor calls and webhook attempts.' },
    ),
  },
  { description: 'What the support console shows on its health page, computed by the replica that answers.' },
);
export type SupportHealth = Static<typeof SupportHealth>;
