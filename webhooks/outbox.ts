import { sql } from 'drizzle-orm';
import type { Tx } from '../db';
import { runStatement, schema } from '../db';
import { randomId } from '../runtime/ids';
import type { EventSink, RecordedEvent } from '../runtime/events';

/** The NOTIFY channel workers LISTEN on; the payload is empty (the table is the queue). */
export const WEBHOOK_CHANNEL = 'nimbus_webhooks';

/** 24 base62-ish characters from two random UUIDs (122 random bits each), as runtime/ids.ts makes them. */
const DELIVERY_ID = `'wd_' || substr(translate(encode(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), 'base64'), '+/=', ''), 1, 24)`;

/**
 * One statement, whose result nobody waits for: pipelined with the event's insert. The
 * deliveries are selected and inserted in SQL, and NOTIFY is sent only when there was
 * one (PostgreSQL folds the NOTIFYs of one transaction on one channel into one).
 */
const FAN_OUT = `
  with queued as (
    insert into webhook_deliveries (id, tenant_id, endpoint_id, event_id, attempt, status, next_attempt_at)
    select ${DELIVERY_ID}, e.tenant_id, e.id, $2, 1, 'pending', now()
    from webhook_endpoints e
    where e.tenant_id = $1 and e.status = 'enabled' and (e.enabled_events @> array['*'] or e.enabled_events @> array[$3::text])
    returning 1
  )
  select pg_notify('${WEBHOOK_CHANNEL}', '') from (select 1 from queued limit 1) as woken`;

/**
 * The event log's sink (see runtime/events.ts), called inside the transaction that writes the event (and the state
 * change it reports): one pending delivery per enabled endpoint of the tenant whose
 * `enabled_events` match, then NOTIFY. PostgreSQL delivers a NOTIFY only on commit, so a
 * rolled back change wakes nobody and leaves no delivery behind.
 */
export const fanOutEvent: EventSink = async (tx: Tx, event: RecordedEvent): Promise<void> => {
  await runStatement(tx, FAN_OUT, [event.tenantId, event.id, event.type]);
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
