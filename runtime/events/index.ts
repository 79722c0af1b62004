import { and, eq, like, type SQL } from 'drizzle-orm';
import { randomId } from '../ids';
import type { Database, Tx } from '../../db';
import { schema } from '../../db';
import { parameterInvalid, resourceMissing } from '../errors';
import { listPage, parseListQuery } from '../pagination';
import { fanOutEvent } from '../../webhooks/outbox';

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

export interface RecordedEvent {
  id: string;
  tenantId: string;
  type: EventType;
  objectId: string;
  createdAt: Date;
  data: { object: Record<string, unknown> };
}

/**
 * Writes one event in the caller's transaction (the same one as the state change it
 * reports) and fans it out to the webhook outbox in that transaction too: a rolled back
 * change leaves neither an event nor a delivery behind.
 */
export async function recordEvent(
  tx: Tx,
  input: { tenantId: string; type: EventType; objectId: string; object: Record<string, unknown> },
): Promise<RecordedEvent> {
  const [row] = await tx
    .insert(schema.events)
    .values({ id: randomId('evt'), tenantId: input.tenantId, type: input.type, objectId: input.objectId, data: { object: input.object } })
    .returning();
  const event: RecordedEvent = {
    id: row!.id,
    tenantId: row!.tenantId,
    type: row!.type as EventType,
    objectId: row!.objectId,
    createdAt: row!.createdAt,
    data: row!.data,
  };
  await fanOutEvent(tx, event);
  return event;
}

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
  const [row] = await database.tenant(tenantId, (tx) => tx.select().from(schema.events).where(eq(schema.events.id, id)).limit(1));
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
  const page = await database.tenant(tenantId, (tx) =>
    listPage<EventRow>(tx, schema.events, { params, filters: [and(...filters)], kind: 'event' }),
  );
  return { object: 'list' as const, data: page.rows.map(eventFromRow), has_more: page.hasMore };
}
