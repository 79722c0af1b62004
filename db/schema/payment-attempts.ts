import { index, integer, pgTable } from 'drizzle-orm/pg-core';
import { createdAt, seq, tenantId, text } from './columns';
import { payments } from './payments';
import { tenants } from './tenancy';

/**
 * One row per processor call made for a payment (authorize, capture, cancel, refund,
 * sync), written after the call by the payments plugin's observer of the processor
 * caller: what support needs to see on a payment's timeline (which processor, what it
 * answered, how long it took). Nothing of the input is kept: no card or account data.
 */
export const paymentAttempts = pgTable(
  'payment_attempts',
  {
    id: text('id').primaryKey(),
    seq: seq(),
    tenantId: tenantId().references(() => tenants.id),
    paymentId: text('payment_id')
      .notNull()
      .references(() => payments.id),
    /** The refund a `refund` call (or the sync of one) was about. */
    refundId: text('refund_id'),
    processor: text('processor').notNull(),
    /** authorize, capture, cancel, refund or sync. */
    operation: text('operation').notNull(),
    /** result / error / unknown: whether the processor answered, refused, or we cannot know. */
    kind: text('kind').notNull(),
    /** The answer's status (succeeded, declined, ...) or timeout, circuit_open, processor_error, ... */
    outcome: text('outcome').notNull(),
    /** Decline, failure or processor error code, when there is one. */
    code: text('code'),
    /** Tries within the call, retries included. */
    attempts: integer('attempts').notNull(),
    durationMs: integer('duration_ms').notNull(),
    createdAt: createdAt(),
  },
  (table) => [
    index('payment_attempts_payment_seq_idx').on(table.paymentId, table.seq),
    // The health view's last hour across tenants.
    index('payment_attempts_created_idx').on(table.createdAt),
  ],
);
