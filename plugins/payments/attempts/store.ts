import { and, eq } from 'drizzle-orm';
import { type Database, schema } from '../../../db';
import { resourceMissing } from '../../../runtime/errors';
import { type ListParams, listPage } from '../../../runtime/pagination';
import type { PaymentAttempt } from './model';
import { flushAttempts } from './recorder';

type AttemptRow = typeof schema.paymentAttempts.$inferSelect;

export function attemptResource(row: AttemptRow): PaymentAttempt {
  return {
    id: row.id,
    object: 'payment_attempt',
    payment: row.paymentId,
    refund: row.refundId,
    processor: row.processor,
    operation: row.operation as PaymentAttempt['operation'],
    kind: row.kind as PaymentAttempt['kind'],
    outcome: row.outcome,
    code: row.code,
    attempts: row.attempts,
    duration_ms: row.durationMs,
    created_at: row.createdAt.toISOString(),
  };
}

/** The processor calls of one of the tenant's payments, newest first; another tenant's payment is 404. */
export async function listPaymentAttempts(database: Database, tenantId: string, paymentId: string, params: ListParams) {
  await flushAttempts(database);
  return database.tenant(tenantId, async (tx) => {
    const payments = schema.payments;
    const [payment] = await tx
      .select({ id: payments.id })
      .from(payments)
      .where(and(eq(payments.tenantId, tenantId), eq(payments.id, paymentId)))
      .limit(1);
    if (!payment) throw resourceMissing('payment', paymentId, 'id');
    const table = schema.paymentAttempts;
    const page = await listPage<AttemptRow>(tx, table, {
      params,
      scope: and(eq(table.tenantId, tenantId), eq(table.paymentId, paymentId)),
      kind: 'payment attempt',
    });
    return { object: 'list' as const, data: page.rows.map(attemptResource), has_more: page.hasMore };
  });
}
