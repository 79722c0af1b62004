import { and, arrayContains, eq, inArray, or, sql } from 'drizzle-orm';
import { type Database, schema, type Tx } from '../db';
import { parameterInvalid, resourceMissing, unexpectedState } from '../runtime/errors';
import { randomId } from '../runtime/ids';
import { type ListParams, listPage, listResponse } from '../runtime/pagination';
import type { CreateEndpointBody, UpdateEndpointBody, WebhookDelivery, WebhookEndpoint } from './model';
import { queueDeliveries } from './outbox';
import { generateSecret } from './signing';
import { BlockedTarget, checkEndpointUrl, type Resolver } from './ssrf';

/** Endpoint management and delivery history: what the routes call (no SQL in routes). */

export interface WebhookServiceOptions {
  allowPrivate: boolean;
  resolve?: Resolver;
}

/** During a rotation the old secret signs a second signature this long. */
export const ROTATION_OVERLAP_MS = 24 * 3600_000;

type EndpointRow = typeof schema.webhookEndpoints.$inferSelect;
type DeliveryRow = typeof schema.webhookDeliveries.$inferSelect;

export function endpointResource(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    object: 'webhook_endpoint',
    url: row.url,
    enabled_events: row.enabledEvents as WebhookEndpoint['enabled_events'],
    status: row.status as WebhookEndpoint['status'],
    description: row.description,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function deliveryResource(row: DeliveryRow & { eventType?: string }): WebhookDelivery {
  return {
    id: row.id,
    object: 'webhook_delivery',
    endpoint: row.endpointId,
    event: row.eventId,
    event_type: row.eventType ?? '',
    attempt: row.attempt,
    status: row.status as WebhookDelivery['status'],
    response_status: row.responseStatus,
    response_body: row.responseBody,
    error: row.error,
    duration_ms: row.durationMs,
    created_at: row.createdAt.toISOString(),
    next_attempt_at: row.status === 'pending' && row.nextAttemptAt ? row.nextAttemptAt.toISOString() : null,
  };
}

async function checkedUrl(url: string, options: WebhookServiceOptions): Promise<string> {
  try {
    return (await checkEndpointUrl(url, options)).toString();
  } catch (error) {
    if (error instanceof BlockedTarget) throw parameterInvalid('url', error.message);
    throw error;
  }
}

function normalizedEvents(events: readonly string[]): string[] {
  return [...new Set(events)];
}

async function findEndpoint(tx: Tx, id: string, param = 'id'): Promise<EndpointRow> {
  const [row] = await tx.select().from(schema.webhookEndpoints).where(eq(schema.webhookEndpoints.id, id)).limit(1);
  if (!row) throw resourceMissing('webhook endpoint', id, param);
  return row;
}

export async function createEndpoint(database: Database, tenantId: string, body: CreateEndpointBody, options: WebhookServiceOptions) {
  const url = await checkedUrl(body.url, options);
  const secret = generateSecret();
  const [row] = await database.tenant(tenantId, (tx) =>
    tx
      .insert(schema.webhookEndpoints)
      .values({
        id: randomId('we'),
        tenantId,
        url,
        enabledEvents: normalizedEvents(body.enabled_events),
        status: 'enabled',
        description: body.description ?? null,
        secret,
      })
      .returning(),
  );
  return { ...endpointResource(row!), secret };
}

export async function getEndpoint(database: Database, tenantId: string, id: string): Promise<WebhookEndpoint> {
  return endpointResource(await database.tenant(tenantId, (tx) => findEndpoint(tx, id)));
}

export async function listEndpoints(database: Database, tenantId: string, params: ListParams) {
  return database.tenant(tenantId, async (tx) => {
    const page = await listPage<EndpointRow>(tx, schema.webhookEndpoints, { params, kind: 'webhook endpoint' });
    return listResponse(page.rows.map(endpointResource), page.hasMore);
  });
}

export async function updateEndpoint(database: Database, tenantId: string, id: string, body: UpdateEndpointBody, options: WebhookServiceOptions) {
  const url = body.url === undefined ? undefined : await checkedUrl(body.url, options);
  return database.tenant(tenantId, async (tx) => {
    const current = await findEndpoint(tx, id);
    const changes: Partial<typeof schema.webhookEndpoints.$inferInsert> = { updatedAt: sql`now()` as never };
    if (url !== undefined) changes.url = url;
    if (body.enabled_events !== undefined) changes.enabledEvents = normalizedEvents(body.enabled_events);
    if (body.description !== undefined) changes.description = body.description;
    if (body.status !== undefined && body.status !== current.status) {
      changes.status = body.status;
      // Re-enabling starts a fresh failing streak; disabling by hand is not "disabled by us".
      changes.disabledReason = null;
      changes.failingSince = null;
    }
    const [row] = await tx.update(schema.webhookEndpoints).set(changes).where(eq(schema.webhookEndpoints.id, id)).returning();
    return endpointResource(row!);
  });
}

export async function deleteEndpoint(database: Database, tenantId: string, id: string) {
  await database.tenant(tenantId, async (tx) => {
    await findEndpoint(tx, id);
    await tx.delete(schema.webhookEndpoints).where(eq(schema.webhookEndpoints.id, id));
  });
  return { id, object: 'webhook_endpoint' as const, deleted: true as const };
}

/** A new secret; the previous one keeps signing a second signature for ROTATION_OVERLAP_MS. */
export async function rotateSecret(database: Database, tenantId: string, id: string, overlapMs = ROTATION_OVERLAP_MS) {
  const secret = generateSecret();
  const row = await database.tenant(tenantId, async (tx) => {
    const current = await findEndpoint(tx, id);
    const [updated] = await tx
      .update(schema.webhookEndpoints)
      .set({
        secret,
        previousSecret: current.secret,
        previousSecretExpiresAt: sql`now() + (${overlapMs}::double precision * interval '1 millisecond')` as never,
        updatedAt: sql`now()` as never,
      })
      .where(eq(schema.webhookEndpoints.id, id))
      .returning();
    return updated!;
  });
  return { ...endpointResource(row), secret };
}

export async function listDeliveries(database: Database, tenantId: string, endpointId: string, params: ListParams) {
  return database.tenant(tenantId, async (tx) => {
    await findEndpoint(tx, endpointId);
    const page = await listPage<DeliveryRow>(tx, schema.webhookDeliveries, {
      params,
      filters: [eq(schema.webhookDeliveries.endpointId, endpointId)],
      kind: 'webhook delivery',
    });
    const eventIds = [...new Set(page.rows.map((row) => row.eventId))];
    const types = new Map<string, string>();
    if (eventIds.length > 0) {
      const events = await tx.select({ id: schema.events.id, type: schema.events.type }).from(schema.events).where(inArray(schema.events.id, eventIds));
      for (const event of events) types.set(event.id, event.type);
    }
    return listResponse(page.rows.map((row) => deliveryResource({ ...row, eventType: types.get(row.eventId) })), page.hasMore);
  });
}

/**
 * Queues a fresh delivery chain (attempt 1, due now) of an existing event: to one named
 * endpoint (even if it does not subscribe to the type: the request is explicit), or to
 * every enabled endpoint subscribed to the event type.
 */
export async function redeliverEvent(database: Database, tenantId: string, eventId: string, endpointId?: string) {
  return database.tenant(tenantId, async (tx) => {
    const [event] = await tx.select().from(schema.events).where(eq(schema.events.id, eventId)).limit(1);
    if (!event) throw resourceMissing('event', eventId, 'id');
    let targets: string[];
    if (endpointId !== undefined) {
      const endpoint = await findEndpoint(tx, endpointId, 'endpoint');
      if (endpoint.status !== 'enabled') {
        throw unexpectedState('webhook_endpoint_disabled', `Webhook endpoint '${endpointId}' is disabled: enable it before redelivering.`);
      }
      targets = [endpoint.id];
    } else {
      const rows = await tx
        .select({ id: schema.webhookEndpoints.id })
        .from(schema.webhookEndpoints)
        .where(
          and(
            eq(schema.webhookEndpoints.status, 'enabled'),
            or(arrayContains(schema.webhookEndpoints.enabledEvents, ['*']), arrayContains(schema.webhookEndpoints.enabledEvents, [event.type])),
          ),
        );
      targets = rows.map((row) => row.id);
    }
    const queued = await queueDeliveries(tx, tenantId, event.id, targets);
    return { object: 'list' as const, data: queued.map((row) => deliveryResource({ ...row, eventType: event.type })), has_more: false as const };
  });
}
