import { and, arrayContains, eq, or, type SQL, sql } from 'drizzle-orm';
import { type Database, schema, type Tx } from '../db';
import { parameterInvalid, resourceMissing, unexpectedState } from '../runtime/errors';
import { randomId } from '../runtime/ids';
import { type ListParams, pageQuery, toPage } from '../runtime/pagination';
import type { CreateEndpointBody, UpdateEndpointBody, WebhookDelivery, WebhookEndpoint } from './model';
import { queueDeliveries } from './outbox';
import { type Keyring, keyringFor, needsReseal, resealed, sealSecret, SecretUnreadable } from './sealing';
import { generateSecret } from './signing';
import { BlockedTarget, checkEndpointUrl, type Resolver } from './ssrf';

/** Endpoint management and delivery history: what the routes call (no SQL in routes). */

export interface SecretKeyOptions {
  /** NIMBUS_WEBHOOK_SECRET_KEYS (config.webhookSecretKeys); without it, the development key persisted in the database. */
  secretKeys?: readonly string[];
}

export interface WebhookServiceOptions extends SecretKeyOptions {
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

/** `forUpdate` before writing secret columns: a concurrent rotation must not be overwritten with what was read before it. */
async function findEndpoint(tx: Tx, tenantId: string, id: string, param = 'id', forUpdate = false): Promise<EndpointRow> {
  // The tenant predicate is the first layer of isolation; row-level security is the second.
  const query = tx.select().from(schema.webhookEndpoints).where(and(eq(schema.webhookEndpoints.tenantId, tenantId), eq(schema.webhookEndpoints.id, id))).limit(1);
  const [row] = forUpdate ? await query.for('update') : await query;
  if (!row) throw resourceMissing('webhook endpoint', id, param);
  return row;
}

type StoredSecrets = Pick<EndpointRow, 'id' | 'secret' | 'previousSecret' | 'previousSecretExpiresAt'>;

/**
 * What a write should change so the row holds only secrets sealed under the current key:
 * plaintext (from before encryption) and other keys' values are sealed again, an expired
 * previous secret is dropped. With `strict`, every value is opened and one that cannot be
 * throws; without, only values to reseal are opened and an unreadable one is left as it
 * is (an endpoint update is no reason to fail; the worker reports it loudly).
 */
export function secretUpgrade(ring: Keyring, row: StoredSecrets, strict: boolean, now = new Date()): Partial<EndpointRow> {
  const changes: Partial<EndpointRow> = {};
  const reseal = (stored: string): string | undefined => {
    if (!strict && !needsReseal(ring, stored)) return undefined;
    try {
      const sealed = resealed(ring, row.id, stored);
      return sealed === stored ? undefined : sealed;
    } catch (error) {
      if (strict || !(error instanceof SecretUnreadable)) throw error;
      return undefined;
    }
  };
  const secret = reseal(row.secret);
  if (secret !== undefined) changes.secret = secret;
  if (row.previousSecret !== null) {
    const expired = !row.previousSecretExpiresAt || row.previousSecretExpiresAt.getTime() <= now.getTime();
    if (expired) {
      changes.previousSecret = null;
      changes.previousSecretExpiresAt = null;
    } else {
      const previous = reseal(row.previousSecret);
      if (previous !== undefined) changes.previousSecret = previous;
    }
  }
  return changes;
}

export async function createEndpoint(database: Database, tenantId: string, body: CreateEndpointBody, options: WebhookServiceOptions) {
  const url = await checkedUrl(body.url, options);
  const ring = await keyringFor(database, options.secretKeys);
  const id = randomId('we');
  const secret = generateSecret();
  const [row] = await database.tenant(tenantId, (tx) =>
    tx
      .insert(schema.webhookEndpoints)
      .values({
        id,
        tenantId,
        url,
        enabledEvents: normalizedEvents(body.enabled_events),
        status: 'enabled',
        description: body.description ?? null,
        secret: sealSecret(ring, id, secret),
      })
      .returning(),
  );
  return { ...endpointResource(row!), secret };
}

export async function getEndpoint(database: Database, tenantId: string, id: string): Promise<WebhookEndpoint> {
  return endpointResource(await database.tenant(tenantId, (tx) => findEndpoint(tx, tenantId, id)));
}

/** The seq of a list cursor, looked up in the same scope (another tenant's id is simply unknown: 404). */
async function cursorSeq(tx: Tx, table: typeof schema.webhookEndpoints | typeof schema.webhookDeliveries, params: ListParams, kind: string, scope?: SQL) {
  const cursor = params.startingAfter ?? params.endingBefore;
  if (cursor === undefined) return undefined;
  const [row] = await tx.select({ seq: table.seq }).from(table).where(and(eq(table.id, cursor), scope)).limit(1);
  if (!row) throw resourceMissing(kind, cursor, params.startingAfter !== undefined ? 'starting_after' : 'ending_before');
  return row.seq;
}

export async function listEndpoints(database: Database, tenantId: string, params: ListParams) {
  return database.tenant(tenantId, async (tx) => {
    const table = schema.webhookEndpoints;
    const scope = eq(table.tenantId, tenantId);
    const page = pageQuery(table, params, await cursorSeq(tx, table, params, 'webhook endpoint', scope), [scope]);
    const rows = await tx.select().from(table).where(page.where).orderBy(page.orderBy).limit(page.take);
    const { data, hasMore } = toPage(rows, params.limit, page.reverse);
    return { object: 'list' as const, data: data.map(endpointResource), has_more: hasMore };
  });
}

export async function updateEndpoint(database: Database, tenantId: string, id: string, body: UpdateEndpointBody, options: WebhookServiceOptions) {
  const url = body.url === undefined ? undefined : await checkedUrl(body.url, options);
  const ring = await keyringFor(database, options.secretKeys);
  return database.tenant(tenantId, async (tx) => {
    const current = await findEndpoint(tx, tenantId, id, 'id', true);
    // Any write also seals what is not yet sealed under the current key.
    const changes: Partial<typeof schema.webhookEndpoints.$inferInsert> = { ...secretUpgrade(ring, current, false), updatedAt: sql`now()` as never };
    if (url !== undefined) changes.url = url;
    if (body.enabled_events !== undefined) changes.enabledEvents = normalizedEvents(body.enabled_events);
    if (body.description !== undefined) changes.description = body.description;
    if (body.status !== undefined && body.status !== current.status) {
      changes.status = body.status;
      // Re-enabling starts a fresh failing streak; disabling by hand is not "disabled by us".
      changes.disabledReason = null;
      changes.failingSince = null;
    }
    const [row] = await tx
      .update(schema.webhookEndpoints)
      .set(changes)
      .where(and(eq(schema.webhookEndpoints.tenantId, tenantId), eq(schema.webhookEndpoints.id, id)))
      .returning();
    return endpointResource(row!);
  });
}

export async function deleteEndpoint(database: Database, tenantId: string, id: string) {
  await database.tenant(tenantId, async (tx) => {
    await findEndpoint(tx, tenantId, id);
    await tx.delete(schema.webhookEndpoints).where(and(eq(schema.webhookEndpoints.tenantId, tenantId), eq(schema.webhookEndpoints.id, id)));
  });
  return { id, object: 'webhook_endpoint' as const, deleted: true as const };
}

/** The current secret, sealed under the current key, to keep signing during the overlap; undefined when no configured key opens it. */
function previousForOverlap(ring: Keyring, id: string, stored: string): string | undefined {
  try {
    return resealed(ring, id, stored);
  } catch (error) {
    if (error instanceof SecretUnreadable) return undefined;
    throw error;
  }
}

/**
 * A new secret; the previous one keeps signing a second signature for ROTATION_OVERLAP_MS.
 * Both are stored sealed under the current key (a plaintext or old-key current secret is
 * sealed again on its way to `previous_secret`). A current secret no configured key opens
 * (its key was lost) cannot sign anyway: it is dropped, with no overlap, so rotating is
 * how an endpoint recovers from a lost key.
 */
export async function rotateSecret(database: Database, tenantId: string, id: string, options: SecretKeyOptions = {}, overlapMs = ROTATION_OVERLAP_MS) {
  const ring = await keyringFor(database, options.secretKeys);
  const secret = generateSecret();
  const row = await database.tenant(tenantId, async (tx) => {
    const current = await findEndpoint(tx, tenantId, id, 'id', true);
    const previous = previousForOverlap(ring, id, current.secret);
    const [updated] = await tx
      .update(schema.webhookEndpoints)
      .set({
        secret: sealSecret(ring, id, secret),
        previousSecret: previous ?? null,
        previousSecretExpiresAt: previous === undefined ? null : (sql`now() + (${overlapMs}::double precision * interval '1 millisecond')` as never),
        updatedAt: sql`now()` as never,
      })
      .where(and(eq(schema.webhookEndpoints.tenantId, tenantId), eq(schema.webhookEndpoints.id, id)))
      .returning();
    return updated!;
  });
  return { ...endpointResource(row), secret };
}

export async function listDeliveries(database: Database, tenantId: string, endpointId: string, params: ListParams) {
  return database.tenant(tenantId, async (tx) => {
    await findEndpoint(tx, tenantId, endpointId);
    const table = schema.webhookDeliveries;
    const scope = and(eq(table.tenantId, tenantId), eq(table.endpointId, endpointId))!;
    const page = pageQuery(table, params, await cursorSeq(tx, table, params, 'webhook delivery', scope), [scope]);
    const rows = await tx
      .select({ delivery: table, eventType: schema.events.type })
      .from(table)
      .innerJoin(schema.events, eq(schema.events.id, table.eventId))
      .where(page.where)
      .orderBy(page.orderBy)
      .limit(page.take);
    const { data, hasMore } = toPage(rows, params.limit, page.reverse);
    return {
      object: 'list' as const,
      data: data.map((row) => deliveryResource({ ...row.delivery, eventType: row.eventType })),
      has_more: hasMore,
    };
  });
}

/**
 * Queues a fresh delivery chain (attempt 1, due now) of an existing event: to one named
 * endpoint (even if it does not subscribe to the type: the request is explicit), or to
 * every enabled endpoint subscribed to the event type.
 */
export async function redeliverEvent(database: Database, tenantId: string, eventId: string, endpointId?: string) {
  return database.tenant(tenantId, async (tx) => {
    const [event] = await tx.select().from(schema.events).where(and(eq(schema.events.tenantId, tenantId), eq(schema.events.id, eventId))).limit(1);
    if (!event) throw resourceMissing('event', eventId, 'id');
    let targets: string[];
    if (endpointId !== undefined) {
      const endpoint = await findEndpoint(tx, tenantId, endpointId, 'endpoint');
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
            eq(schema.webhookEndpoints.tenantId, tenantId),
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
