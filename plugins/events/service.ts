import { eq, like, type SQL } from 'drizzle-orm';
import type { Database } from '../../db';
import type { RecordedEvent } from '../../runtime/events';
import { readById, schema } from '../../db';
import { parameterInvalid, resourceMissing } from '../../runtime/errors';
import { listTenantPage, parseListQuery } from '../../runtime/pagination';

export const EVENT_TYPES = [
  'payment.created',
  'payment.processing',
  'payment.requires_capture',
  'payment.succeeded',
  'payment.failed',
  'payment.canceled',
  'refund.created',
  'refund.succeeded',
  'refund.failed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export type { RecordedEvent } from '../../runtime/events';

/** The public event object (API.md "Events and webhooks"). */
export function eventResource(event: Pick<RecordedEvent, 'id' | 'type' | 'createdAt' | 'data'>) {
  return {
    id: event.id,
    object: 'event' as const,
    type: event.type,
    created_at: event.createdAt.toISOString(),
    data: event.data,
  };
}

type EventRow = typeof schema.events.$inferSelect;

function eventFromRow(row: EventRow) {
  return eventResource({ id: row.id, type: row.type as EventType, createdAt: row.createdAt, data: row.data });
}

/** GET /v1/events/:id for the tenant. */
export async function retrieveEvent(database: Database, tenantId: string, id: string) {
  const row = await readById(database, schema.events, tenantId, id);
  if (!row) throw resourceMissing('event', id);
  return eventFromRow(row);
}

/**
 * GET /v1/events: newest first, `type` exact or a `prefix.*` wildcard (as Stripe
 * allows), `object_id` for the events of one payment or refund, plus the list params.
 */
export async function listEvents(database: Database, tenantId: string, query: Record<string, unknown>) {
  const params = parseListQuery(query);
  const filters: SQL[] = [];
  const type = query.type;
  if (type !== undefined) {
    const wildcard = typeof type === 'string' && /^[a-z_]+\.\*$/.test(type) ? type.slice(0, -1) : undefined;
    if (wildcard && EVENT_TYPES.some((known) => known.startsWith(wildcard))) filters.push(like(schema.events.type, `${wildcard}%`));
    else if (typeof type === 'string' && (EVENT_TYPES as readonly string[]).includes(type)) filters.push(eq(schema.events.type, type));
    else throw parameterInvalid('type', `type must be one of: ${EVENT_TYPES.join(', ')} (or a prefix such as payment.*).`);
  }
  const objectId = query.object_id;
  if (objectId !== undefined) {
    if (typeof objectId !== 'string' || objectId === '') throw parameterInvalid('object_id', 'object_id must be a payment or refund id.');
    filters.push(eq(schema.events.objectId, objectId));
  }
  const page = await listTenantPage<EventRow>(database, schema.events, tenantId, { params, filters, kind: 'event' });
  return { object: 'list' as const, data: page.rows.map(eventFromRow), has_more: page.hasMore };
}
