import { schema, type Tx } from '../db';
import { randomId } from './ids';

/**
 * The event log: every committed state change becomes an event row, written in the
 * transaction of the change. What else must happen in that transaction (the webhook
 * outbox) is a sink that a plugin contributes; the kernel knows no event type and no
 * consumer.
 */
export interface RecordedEvent {
  id: string;
  tenantId: string;
  type: string;
  objectId: string;
  createdAt: Date;
  data: { object: Record<string, unknown> };
}

/** Runs inside the recording transaction: a rolled back change leaves nothing behind. */
export type EventSink = (tx: Tx, event: RecordedEvent) => Promise<void>;

export interface EventInput {
  tenantId: string;
  type: string;
  objectId: string;
  object: Record<string, unknown>;
}

export interface EventLog {
  /** Writes one event in the caller's transaction and hands it to every sink, in order. */
  record(tx: Tx, input: EventInput): Promise<RecordedEvent>;
}

export function createEventLog(sinks: readonly EventSink[] = []): EventLog {
  return {
    async record(tx, input) {
      const [row] = await tx
        .insert(schema.events)
        .values({ id: randomId('evt'), tenantId: input.tenantId, type: input.type, objectId: input.objectId, data: { object: input.object } })
        .returning();
      const event: RecordedEvent = {
        id: row!.id,
        tenantId: row!.tenantId,
        type: row!.type,
        objectId: row!.objectId,
        createdAt: row!.createdAt,
        data: row!.data,
      };
      for (const sink of sinks) await sink(tx, event);
      return event;
    },
  };
}
