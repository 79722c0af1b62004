import type { PublicPaymentMethod as PaymentMethodPublic } from '../model';
import type { Payment, PaymentFailure, PaymentStatus, Refund, RefundStatus } from '../model';
import type { schema } from '../../../db';

export type PaymentRow = typeof schema.payments.$inferSelect;
export type RefundRow = typeof schema.refunds.$inferSelect;

/** The public payment object (API.md "Payments"): what responses, events and webhooks carry. */
export function paymentResource(row: PaymentRow): Payment {
  return {
    id: row.id,
    object: 'payment',
    status: row.status as PaymentStatus,
    amount: row.amount,
    currency: row.currency,
    capture_method: row.captureMethod as Payment['capture_method'],
    amount_capturable: row.amountCapturable,
    amount_received: row.amountReceived,
    amount_refunded: row.amountRefunded,
    payment_method: row.paymentMethod as PaymentMethodPublic,
    processor: row.processor ?? null,
    processor_reference: row.processorReference ?? null,
    failure: (row.failure as PaymentFailure | null) ?? null,
    // A cancel still waiting for the processor keeps its reason in the row, not in the object.
    cancellation_reason: row.status === 'canceled' ? (row.cancellationReason ?? null) : null,
    description: row.description ?? null,
    metadata: row.metadata,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function refundResource(row: RefundRow): Refund {
  return {
    id: row.id,
    object: 'refund',
    payment: row.paymentId,
    amount: row.amount,
    currency: row.currency,
    status: row.status as RefundStatus,
    reason: (row.reason as Refund['reason']) ?? null,
    failure: (row.failure as Refund['failure']) ?? null,
    metadata: row.metadata,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
