import { and, eq, sql } from 'drizzle-orm';
import { type Database, rowsOf, schema } from '../db';
import { resourceMissing } from '../runtime/errors';
import { type ListParams, listPage } from '../runtime/pagination';
import { deliveryResource } from './service';
import { HEALTH_WINDOW_HOURS, type WebhookEndpointHealth } from './support-model';

/** What support reads of webhooks beyond the endpoint routes: deliveries by event, endpoint health. */

type DeliveryRow = typeof schema.webhookDeliveries.$inferSelect;

/** Every delivery attempt of one of the tenant's events, to any endpoint, newest first. */
export async function listEventDeliveries(database: Database, tenantId: string, eventId: string, params: ListParams) {
  return database.tenant(tenantId, async (tx) => {
    const events = schema.events;
    const [event] = await tx
      .select({ type: events.type })
      .from(events)
      .where(and(eq(events.tenantId, tenantId), eq(events.id, eventId)))
      .limit(1);
    if (!event) throw resourceMissing('event', eventId, 'id');
    const table = schema.webhookDeliveries;
    const page = await listPage<DeliveryRow>(tx, table, {
      params,
      scope: and(eq(table.tenantId, tenantId), eq(table.eventId, eventId)),
      kind: 'webhook delivery',
    });
    return { object: 'list' as const, data: page.rows.map((row) => deliveryResource({ ...row, eventType: event.type })), has_more: page.hasMore };
  });
}

interface HealthRow {
  succeeded: number | string;
  failed: number | string;
  pending: number | string;
  oldest_pending_since: string | Date | null;
  next_attempt_at: string | Date | null;
  last_success_at: string | Date | null;
  last_failure_at: string | Date | null;
}

const iso = (value: string | Date | null): string | null => (value === null ? null : new Date(value).toISOString());

/**
 * One endpoint's health from its attempts: successes and failures within the window,
 * what still waits (pending rows are the queue), and the platform's reason when it
 * disabled the endpoint. Another tenant's endpoint is 404.
 */
export async function endpointHealth(database: Database, tenantId: string, endpointId: string): Promise<WebhookEndpointHealth> {
  return database.tenant(tenantId, async (tx) => {
    const endpoints = schema.webhookEndpoints;
    const [endpoint] = await tx
      .select({ id: endpoints.id, status: endpoints.status, disabledReason: endpoints.disabledReason, failingSince: endpoints.failingSince })
      .from(endpoints)
      .where(and(eq(endpoints.tenantId, tenantId), eq(endpoints.id, endpointId)))
      .limit(1);
    if (!endpoint) throw resourceMissing('webhook endpoint', endpointId, 'id');
    const since = sql`now() - make_interval(hours => ${HEALTH_WINDOW_HOURS})`;
    const [row] = rowsOf<HealthRow>(
      await tx.execute(sql`
        select count(*) filter (where status = 'succeeded' and attempted_at >= ${since}) as succeeded,
               count(*) filter (where status = 'failed' and coalesce(attempted_at, created_at) >= ${since}) as failed,
               count(*) filter (where status = 'pending') as pending,
               min(queued_at) filter (where status = 'pending') as oldest_pending_since,
               min(next_attempt_at) filter (where status = 'pending') as next_attempt_at,
               max(attempted_at) filter (where status = 'succeeded') as last_success_at,
               max(coalesce(attempted_at, created_at)) filter (where status = 'failed') as last_failure_at
        from webhook_deliveries
        where tenant_id = ${tenantId} and endpoint_id = ${endpointId}
      `),
    );
    const succeeded = Number(row?.succeeded ?? 0);
    const failed = Number(row?.failed ?? 0);
    return {
      object: 'webhook_endpoint_health',
      endpoint: endpoint.id,
      status: endpoint.status as WebhookEndpointHealth['status'],
      disabled_reason: endpoint.status === 'disabled' ? endpoint.disabledReason : null,
      failing_since: endpoint.failingSince?.toISOString() ?? null,
      window_hours: HEALTH_WINDOW_HOURS,
      succeeded,
      failed,
      success_ratio: succeeded + failed === 0 ? null : succeeded / (succeeded + failed),
      pending: Number(row?.pending ?? 0),
      oldest_pending_since: iso(row?.oldest_pending_since ?? null),
      next_attempt_at: iso(row?.next_attempt_at ?? null),
      last_success_at: iso(row?.last_success_at ?? null),
      last_failure_at: iso(row?.last_failure_at ?? null),
    };
  });
}
