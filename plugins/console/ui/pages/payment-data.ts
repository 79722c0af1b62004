import { api, type List } from '../lib/api';
import type { Attempt, Delivery, NimbusEvent, Payment, Refund } from '../lib/types';

export interface PaymentDetail {
  tenant: string;
  payment: Payment;
  refunds: Refund[];
  attempts: Attempt[];
  events: NimbusEvent[];
  deliveries: Map<string, Delivery[]>;
}

/** A link without its tenant (pasted from a log line) finds it by searching the payment id. */
async function tenantOf(id: string): Promise<string> {
  const found = await api<List<Payment>>(`/v1/support/payments?q=${encodeURIComponent(id)}&limit=1`);
  const tenant = found.data[0]?.tenant;
  if (!tenant) throw new Error(`No payment ${id} in any tenant.`);
  return tenant;
}

/**
 * Everything the payment page shows, through the public API as support reads it
 * (Nimbus-Tenant): the payment, its refunds, its processor attempts, the events of the
 * payment and of each refund, and every delivery attempt of those events.
 */
export async function loadPayment(id: string, knownTenant: string | undefined): Promise<PaymentDetail> {
  const tenant = knownTenant ?? (await tenantOf(id));
  const path = encodeURIComponent(id);
  const [payment, refunds, attempts] = await Promise.all([
    api<Payment>(`/v1/payments/${path}`, { tenant }),
    api<List<Refund>>(`/v1/refunds?payment=${path}&limit=100`, { tenant }),
    api<List<Attempt>>(`/v1/payments/${path}/attempts?limit=100`, { tenant }),
  ]);
  const objects = [id, ...refunds.data.map((refund) => refund.id)];
  const eventLists = await Promise.all(objects.map((object) => api<List<NimbusEvent>>(`/v1/events?object_id=${encodeURIComponent(object)}&limit=100`, { tenant })));
  const events = eventLists.flatMap((list) => list.data);
  const deliveryLists = await Promise.all(events.map((event) => api<List<Delivery>>(`/v1/events/${encodeURIComponent(event.id)}/deliveries?limit=100`, { tenant })));
  const deliveries = new Map(events.map((event, index) => [event.id, deliveryLists[index]!.data.slice().reverse()]));
  return { tenant, payment, refunds: refunds.data, attempts: attempts.data, events, deliveries };
}

export type TimelineEntry =
  | { kind: 'event'; at: string; order: number; event: NimbusEvent }
  | { kind: 'attempt'; at: string; order: number; attempt: Attempt }
  | { kind: 'refund'; at: string; order: number; refund: Refund };

/**
 * When a processor call began. An attempt is recorded once the call has ended, possibly
 * with the outcome's commit, so its `created_at` can be later than the event that
 * outcome produced; placed at its start, it comes before what it caused.
 */
export function callStart(attempt: Attempt): string {
  const recorded = Date.parse(attempt.created_at);
  return Number.isNaN(recorded) ? attempt.created_at : new Date(recorded - attempt.duration_ms).toISOString();
}

/** Oldest first; lists arrive newest first, so their own order breaks ties within one millisecond. */
export function timeline(detail: PaymentDetail): TimelineEntry[] {
  const entries: TimelineEntry[] = [
    ...detail.events.map((event, index) => ({ kind: 'event' as const, at: event.created_at, order: -index, event })),
    ...detail.attempts.map((attempt, index) => ({ kind: 'attempt' as const, at: callStart(attempt), order: -index, attempt })),
    ...detail.refunds.map((refund, index) => ({ kind: 'refund' as const, at: refund.created_at, order: -index, refund })),
  ];
  return entries.sort((a, b) => a.at.localeCompare(b.at) || a.order - b.order);
}
