import { encode, runStatement, schema, type Tx } from '../db';
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

const INSERT_EVENT = 'insert into events (id, tenant_id, type, object_id, data, created_at) values ($1, $2, $3, $4, $5, $6)';

/**
 * The event is complete before it is written (its time is this process's clock), so the
 * insert and every sink's statements go out together, without waiting for one another:
 * on postgres.js they are pipelined on the transaction's connection, in this order.
 */
export function createEventLog(sinks: readonly EventSink[] = []): EventLog {
  return {
    async record(tx, input) {
      const event: RecordedEvent = {
        id: randomId('evt'),
        tenantId: input.tenantId,
        type: input.type,
        objectId: input.objectId,
        createdAt: new Date(),
        data: { object: input.object },
      };
      const { data, createdAt } = schema.events;
      const insert = runStatement(tx, INSERT_EVENT, [event.id, event.tenantId, event.type, event.objectId, encode(data, event.data), encode(createdAt, event.createdAt)]);
      await Promise.all([insert, ...sinks.map((sink) => sink(tx, event))]);
      return event;
    },
  };
}
