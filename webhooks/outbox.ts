import { and, eq, or, arrayContains, sql } from 'drizzle-orm';
import type { Tx } from '../db';
import { schema } from '../db';
import { randomId } from '../runtime/ids';
import type { EventSink, RecordedEvent } from '../runtime/events';

/** The NOTIFY channel workers LISTEN on; the payload is empty (the table is the queue). */
export const WEBHOOK_CHANNEL = 'nimbus_webhooks';

/**
 * The event log's sink (see runtime/events.ts), called inside the transaction that writes the event (and the state
 * change it reports): one pending delivery per enabled endpoint of the tenant whose
 * `enabled_events` match, then NOTIFY. PostgreSQL delivers a NOTIFY only on commit, so a
 * rolled back change wakes nobody and leaves no delivery behind.
 */
export const fanOutEvent: EventSink = async (tx: Tx, event: RecordedEvent): Promise<void> => {
  const endpoints = await tx
    .select({ id: schema.webhookEndpoints.id })
    .from(schema.webhookEndpoints)
    .where(
      and(
        eq(schema.webhookEndpoints.tenantId, event.tenantId),
        eq(schema.webhookEndpoints.status, 'enabled'),
        or(arrayContains(schema.webhookEndpoints.enabledEvents, ['*']), arrayContains(schema.webhookEndpoints.enabledEvents, [event.type])),
      ),
    );
  if (endpoints.length === 0) return;
  await queueDeliveries(
    tx,
    event.tenantId,
    event.id,
    endpoints.map((endpoint) => endpoint.id),
  );
};

/** Writes a first attempt, due now, for each endpoint, and wakes the workers at commit. */
export async function queueDeliveries(tx: Tx, tenantId: string, eventId: string, endpointIds: readonly string[]) {
  if (endpointIds.length === 0) return [];
  const rows = await tx
    .insert(schema.webhookDeliveries)
    .values(
      endpointIds.map((endpointId) => ({
        id: randomId('wd'),
        tenantId,
        endpointId,
        eventId,
        attempt: 1,
        status: 'pending',
        nextAttemptAt: sql`now()`,
      })),
    )
    .returning();
  await tx.execute(sql`select pg_notify(${WEBHOOK_CHANNEL}, '')`);
  return rows;
}
