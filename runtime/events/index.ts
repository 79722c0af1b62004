import { randomId } from '../ids';
import type { Tx } from '../../db';
import { schema } from '../../db';
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
