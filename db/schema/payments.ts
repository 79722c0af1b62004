import { boolean, index, integer, pgTable, primaryKey, uniqueIndex } from 'drizzle-orm/pg-core';
import { at, createdAt, jsonb, metadata, money, seq, tenantId, text, updatedAt } from './columns';
import { tenants } from './tenancy';

export const payments = pgTable(
  'payments',
  {
    id: text('id').primaryKey(),
    seq: seq(),
    tenantId: tenantId().references(() => tenants.id),
    status: text('status').notNull(),
    amount: money('amount').notNull(),
    currency: text('currency').notNull(),
    captureMethod: text('capture_method').notNull(),
    amountCapturable: money('amount_capturable').notNull().default(0),
    amountReceived: money('amount_received').notNull().default(0),
    amountRefunded: money('amount_refunded').notNull().default(0),
    /** `card` or `bank_transfer`: a label for metrics and routing. */
    methodType: text('method_type').notNull(),
    /** The public, redacted view of the payment method; raw details never reach the database. */
    paymentMethod: jsonb('payment_method').$type<Record<string, unknown>>().notNull(),
    /**
     * Raw method details of a payment created with `confirm: false`, AES-256-GCM
     * encrypted, until it is confirmed or canceled (PCI allows keeping them encrypted
     * until authorization, never after). Wiped in the same statement that moves the
     * payment out of requires_confirmation. Every other payment has null here.
     */
    methodVault: text('method_vault'),
    processor: text('processor'),
    processorReference: text('processor_reference'),
    /** Every processor tried, in order, with its outcome (failover is visible to support). */
    processorAttempts: jsonb('processor_attempts').$type<Array<Record<string, unknown>>>().notNull().default([]),
    failure: jsonb('failure').$type<Record<string, unknown> | null>(),
    description: text('description'),
    metadata: metadata(),
    cancellationReason: text('cancellation_reason'),
    /**
     * A capture or cancel sent to the processor whose outcome is not committed yet. It
     * locks the payment against a second capture/cancel (the status itself must stay
     * `requires_capture`, since API.md allows no intermediate status there).
     */
    pendingAction: text('pending_action'),
    /** The amount of a pending capture, so reconciliation can commit it. */
    pendingAmount: money('pending_amount'),
    /**
     * Whether `payment.processing` was written. A card call in flight keeps the payment
     * `processing` without announcing it (a card approved at once emits only created and
     * succeeded); it is announced when the outcome stays open (pending, unknown, crash).
     */
    processingAnnounced: boolean('processing_announced').notNull().default(false),
    /** When an authorization left in requires_capture expires to canceled. */
    captureBefore: at('capture_before'),
    /** Reconciliation: when to ask the processor again about a `processing` payment. */
    nextSyncAt: at('next_sync_at'),
    syncAttempts: integer('sync_attempts').notNull().default(0),
    /**
     * Reconciliation answers in a row saying the processor has no such payment. Past the
     * limit (NIMBUS_RECONCILE_NOT_FOUND_LIMIT) the payment fails: nothing reached the
     * processor, so asking forever would only keep it `processing` forever.
     */
    syncNotFound: integer('sync_not_found').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    index('payments_tenant_seq_idx').on(table.tenantId, table.seq),
    index('payments_next_sync_idx').on(table.nextSyncAt),
    index('payments_capture_before_idx').on(table.captureBefore),
    index('payments_processor_ref_idx').on(table.processor, table.processorReference),
  ],
);

export const refunds = pgTable(
  'refunds',
  {
    id: text('id').primaryKey(),
    seq: seq(),
    tenantId: tenantId().references(() => tenants.id),
    paymentId: text('payment_id')
      .notNull()
      .references(() => payments.id),
    amount: money('amount').notNull(),
    currency: text('currency').notNull(),
    status: text('status').notNull(),
    reason: text('reason'),
    failure: jsonb('failure').$type<Record<string, unknown> | null>(),
    metadata: metadata(),
    processor: text('processor').notNull(),
    processorReference: text('processor_reference'),
    nextSyncAt: at('next_sync_at'),
    syncAttempts: integer('sync_attempts').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    index('refunds_tenant_seq_idx').on(table.tenantId, table.seq),
    index('refunds_payment_idx').on(table.paymentId),
    index('refunds_next_sync_idx').on(table.nextSyncAt),
    index('refunds_processor_ref_idx').on(table.processor, table.processorReference),
  ],
);

/**
 * Every committed state change, written in the same transaction as the change. The
 * webhook outbox fans events out to endpoints (webhooks/ owns that table).
 */
export const events = pgTable(
  'events',
  {
    id: text('id').primaryKey(),
    seq: seq(),
    tenantId: tenantId().references(() => tenants.id),
    type: text('type').notNull(),
    /** The payment or refund the event is about, for per-object listing. */
    objectId: text('object_id').notNull(),
    data: jsonb('data').$type<{ object: Record<string, unknown> }>().notNull(),
    createdAt: createdAt(),
  },
  (table) => [
    index('events_tenant_seq_idx').on(table.tenantId, table.seq),
    index('events_object_idx').on(table.objectId, table.seq),
    index('events_tenant_type_seq_idx').on(table.tenantId, table.type, table.seq),
  ],
);

/**
 * Idempotency records, in PostgreSQL so every replica sees them. `scope` is the tenant
 * id, or `platform:<client id>` for platform clients, which have no tenant.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    /** Null for platform-scoped keys; row-level security applies to tenant rows. */
    tenantId: text('tenant_id'),
    method: text('method').notNull(),
    path: text('path').notNull(),
    /** HMAC of method, path and body under a server key: the body may hold a card number. */
    requestHash: text('request_hash').notNull(),
    /** `in_progress` until the first response is stored, then `completed`. */
    state: text('state').notNull(),
    responseStatus: integer('response_status'),
    /** AES-256-GCM sealed: a response may show a secret once (client and webhook secrets). */
    responseBody: text('response_body'),
    /** An in-progress claim not renewed past this is considered abandoned (crashed replica). */
    lockedUntil: at('locked_until').notNull(),
    /** Random per claim: fences writes, so a request whose claim was taken over changes nothing. */
    owner: text('owner'),
    /**
     * The object (payment, refund) the request created, bound in that object's own
     * transaction before any processor call: a retry resumes it instead of creating another.
     */
    resourceId: text('resource_id'),
    createdAt: createdAt(),
    expiresAt: at('expires_at').notNull(),
  },
  (table) => [primaryKey({ columns: [table.scope, table.key] }), index('idempotency_expires_idx').on(table.expiresAt)],
);

/** Processor callbacks already applied, so a replayed callback changes nothing. */
export const processorCallbacks = pgTable(
  'processor_callbacks',
  {
    processor: text('processor').notNull(),
    eventId: text('event_id').notNull(),
    tenantId: text('tenant_id'),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex('processor_callbacks_uniq').on(table.processor, table.eventId)],
);
