import { sql } from 'drizzle-orm';
import { index, integer, pgTable } from 'drizzle-orm/pg-core';
import { at, createdAt, seq, tenantId, text, updatedAt } from './columns';
import { tenants } from './tenancy';

/**
 * Webhook endpoints of a tenant. The signing secret has to be kept readable (HMAC needs
 * the key itself), so it lives here and is only ever returned on create and rotate.
 * During a rotation the previous secret keeps signing a second signature until
 * `previous_secret_expires_at`.
 */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: text('id').primaryKey(),
    seq: seq(),
    tenantId: tenantId().references(() => tenants.id),
    url: text('url').notNull(),
    enabledEvents: text('enabled_events').array().notNull(),
    /** `enabled` or `disabled`. */
    status: text('status').notNull(),
    description: text('description'),
    secret: text('secret').notNull(),
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: at('previous_secret_expires_at'),
    /** Set at the first failed attempt after a success, cleared by the next success: five days of this disables the endpoint. */
    failingSince: at('failing_since'),
    /** Why the platform disabled it (`gone` for a 410, `failing` after five days), null when a person did. */
    disabledReason: text('disabled_reason'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [index('webhook_endpoints_tenant_seq_idx').on(table.tenantId, table.seq)],
);

/**
 * One row per delivery attempt, which is also the queue: a `pending` row whose
 * `next_attempt_at` has passed and whose lease (`locked_until`) is free is due. A
 * failed attempt is closed and the retry is a new `pending` row with `attempt + 1`, so
 * the deliveries list shows every attempt and the scheduled one.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    seq: seq(),
    tenantId: tenantId().references(() => tenants.id),
    endpointId: text('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    eventId: text('event_id').notNull(),
    attempt: integer('attempt').notNull(),
    /** `pending`, `succeeded` or `failed`. */
    status: text('status').notNull(),
    responseStatus: integer('response_status'),
    /** At most 4 KiB of what the receiver answered. */
    responseBody: text('response_body'),
    error: text('error'),
    durationMs: integer('duration_ms'),
    nextAttemptAt: at('next_attempt_at'),
    /** The lease of the worker that claimed it; a crashed worker's claim is free again once this passes. */
    lockedUntil: at('locked_until'),
    lockedBy: text('locked_by'),
    /** When the chain of attempts started (the first attempt's creation), for the delivery latency metric. */
    queuedAt: at('queued_at').notNull().defaultNow(),
    attemptedAt: at('attempted_at'),
    createdAt: createdAt(),
  },
  (table) => [
    index('webhook_deliveries_endpoint_seq_idx').on(table.endpointId, table.seq),
    index('webhook_deliveries_due_idx').on(table.nextAttemptAt).where(sql`status = 'pending'`),
    // The claim counts each endpoint's deliveries in flight (leased) without reading every pending row.
    index('webhook_deliveries_leased_idx').on(table.endpointId).where(sql`status = 'pending' and locked_until is not null`),
    index('webhook_deliveries_event_idx').on(table.eventId),
  ],
);
