import { sql } from 'drizzle-orm';
import { type Database, rowsOf, runStatement, type Tx } from '../db';
import { randomId } from '../runtime/ids';
import { nextDelayMs, type RetryPolicy } from './schedule';

/**
 * The delivery queue is the webhook_deliveries table. Claiming takes due rows with
 * FOR UPDATE SKIP LOCKED and stamps a lease in a short transaction, so no row lock is
 * held while a receiver is being called; a worker that dies leaves rows whose lease
 * simply runs out, and the next claim takes them again.
 */

export interface ClaimedDelivery {
  id: string;
  tenantId: string;
  endpointId: string;
  eventId: string;
  attempt: number;
  queuedAt: Date;
  /** `secrets` as stored (sealed, or plaintext from before encryption): the worker opens them. */
  endpoint: { url: string; status: string; secrets: string[] };
  event: { id: string; type: string; createdAt: Date; data: unknown };
}

export interface ClaimOptions {
  workerId: string;
  batch: number;
  leaseMs: number;
  /** At most this many deliveries of one endpoint in flight across all workers. */
  perEndpoint: number;
}

interface ClaimRow {
  id: string;
  tenant_id: string;
  endpoint_id: string;
  event_id: string;
  attempt: number;
  queued_at: string | Date;
  url: string;
  endpoint_status: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: string | Date | null;
  event_type: string;
  event_created_at: string | Date;
  event_data: unknown;
}

/** Rows considered per claim: bounds the window-function work however long the backlog. */
const SCAN_LIMIT = 1000;

/**
 * A lease and a delivery's outcome are bookkeeping of an at-least-once queue: their
 * commits need not wait for the WAL to reach the disk. Should the database crash within
 * that window, the lease or the outcome is lost and the delivery is sent again, which
 * receivers dedupe on `webhook-id` (API.md). Payments' own commits stay synchronous.
 */
export const ASYNCHRONOUS_COMMIT = "select set_config('synchronous_commit', 'off', true)";

export async function claimDue(database: Database, options: ClaimOptions): Promise<ClaimedDelivery[]> {
  return database.system(async (tx) => (await Promise.all([runStatement(tx, ASYNCHRONOUS_COMMIT, []), claimIn(tx, options)]))[1]);
}

/** The claim as one statement in the caller's system transaction (outcomes.ts claims with the outcomes it records). */
export async function claimIn(tx: Tx, options: ClaimOptions): Promise<ClaimedDelivery[]> {
  if (options.batch <= 0) return [];
  const rows = rowsOf<ClaimRow>(
      await tx.execute(sql`
        with due as (
          select id, endpoint_id, next_attempt_at, seq from webhook_deliveries
          where status = 'pending' and next_attempt_at <= now() and (locked_until is null or locked_until < now())
          order by next_attempt_at, seq
          limit ${SCAN_LIMIT}
        ), ranked as (
          select id, endpoint_id, next_attempt_at, seq,
                 row_number() over (partition by endpoint_id order by next_attempt_at, seq) as rank
          from due
        ), busy as (
          -- In flight per endpoint, through the partial index of leased rows (as many as
          -- deliveries in flight across workers): never a scan of every pending row.
          select endpoint_id, count(*)::int as n from webhook_deliveries
          where status = 'pending' and locked_until is not null and locked_until >= now()
          group by endpoint_id
        ), picked as (
          select r.id from ranked r left join busy b on b.endpoint_id = r.endpoint_id
          where r.rank + coalesce(b.n, 0) <= ${options.perEndpoint}
          order by r.next_attempt_at, r.seq
          limit ${options.batch}
        ), locked as (
          select d.id from webhook_deliveries d
          where d.id in (select id from picked)
            and d.status = 'pending' and (d.locked_until is null or d.locked_until < now())
          for update of d skip locked
        )
        update webhook_deliveries d
        set locked_until = now() + (${options.leaseMs}::double precision * interval '1 millisecond'),
            locked_by = ${options.workerId}
        from locked, webhook_endpoints e, events ev
        where d.id = locked.id and e.id = d.endpoint_id and ev.id = d.event_id
        returning d.id, d.tenant_id, d.endpoint_id, d.event_id, d.attempt, d.queued_at,
                  e.url, e.status as endpoint_status, e.secret, e.previous_secret, e.previous_secret_expires_at,
                  ev.type as event_type, ev.created_at as event_created_at, ev.data as event_data
      `),
  );
  const now = Date.now();
  return rows.map((row) => {
    const secrets = [row.secret];
    const expires = row.previous_secret_expires_at ? new Date(row.previous_secret_expires_at).getTime() : 0;
    if (row.previous_secret && expires > now) secrets.push(row.previous_secret);
    return {
      id: row.id,
      tenantId: row.tenant_id,
      endpointId: row.endpoint_id,
      eventId: row.event_id,
      attempt: Number(row.attempt),
      queuedAt: new Date(row.queued_at),
      endpoint: { url: row.url, status: row.endpoint_status, secrets },
      event: { id: row.event_id, type: row.event_type, createdAt: new Date(row.event_created_at), data: row.event_data },
    };
  });
}

/** How an attempt ended, as the worker decided it. */
export type AttemptResult =
  | { outcome: 'succeeded'; responseStatus: number; responseBody: string; durationMs: number }
  | {
      outcome: 'failed';
      responseStatus?: number;
      responseBody?: string;
      error?: string;
      durationMs: number;
      retryAfterMs?: number;
      /** 410 Gone: disable the endpoint now, no retry. */
      gone?: boolean;
      /** The endpoint was disabled before this attempt: close it without retrying. */
      final?: boolean;
      /** Nothing was sent through our own fault (unreadable secret): retry, but it is no failing streak of the endpoint's. */
      platformFault?: boolean;
    };

export interface RecordedAttempt {
  /** False when the lease was lost (another worker owns the row now): nothing was written. */
  recorded: boolean;
  retryAt?: Date;
  endpointDisabled?: 'gone' | 'failing';
}

/**
 * Closes one attempt and, on failure, schedules the next one as a new pending row; also
 * keeps the endpoint's failing streak (five days of it disables the endpoint). One
 * transaction, guarded by the lease so a worker that lost its claim writes nothing.
 */
export async function recordAttempt(
  database: Database,
  delivery: ClaimedDelivery,
  workerId: string,
  result: AttemptResult,
  policy: RetryPolicy,
): Promise<RecordedAttempt> {
  return database.system(async (tx) => {
    const closed = rowsOf<{ id: string }>(
      await tx.execute(sql`
        update webhook_deliveries
        set status = ${result.outcome}, response_status = ${result.responseStatus ?? null},
            response_body = ${result.responseBody ?? null}, error = ${result.outcome === 'failed' ? (result.error ?? null) : null},
            duration_ms = ${result.durationMs}, attempted_at = now(), next_attempt_at = null,
            locked_until = null, locked_by = null
        where id = ${delivery.id} and status = 'pending' and locked_by = ${workerId}
        returning id
      `),
    );
    if (closed.length === 0) return { recorded: false };
    switch (result.outcome) {
      case 'succeeded':
        await tx.execute(sql`update webhook_endpoints set failing_since = null where id = ${delivery.endpointId} and failing_since is not null`);
        return { recorded: true };
      case 'failed': {
        if (result.final) return { recorded: true };
        if (result.gone) {
          await disable(tx, delivery.endpointId, 'gone');
          return { recorded: true, endpointDisabled: 'gone' };
        }
        const [streak] = result.platformFault
          ? []
          : rowsOf<{ failing_ms: number | string }>(
              await tx.execute(sql`
                update webhook_endpoints set failing_since = coalesce(failing_since, now())
                where id = ${delivery.endpointId}
                returning extract(epoch from now() - failing_since) * 1000 as failing_ms
              `),
            );
        if (streak && Number(streak.failing_ms) >= policy.disableAfterFailingMs) {
          await disable(tx, delivery.endpointId, 'failing');
          return { recorded: true, endpointDisabled: 'failing' };
        }
        const delay = nextDelayMs(delivery.attempt, policy, result.retryAfterMs);
        if (delay === undefined) return { recorded: true };
        const [retry] = rowsOf<{ next_attempt_at: string | Date }>(
          await tx.execute(sql`
            insert into webhook_deliveries (id, tenant_id, endpoint_id, event_id, attempt, status, next_attempt_at, queued_at)
            values (${randomId('wd')}, ${delivery.tenantId}, ${delivery.endpointId}, ${delivery.eventId}, ${delivery.attempt + 1},
                    'pending', now() + (${delay}::double precision * interval '1 millisecond'), ${delivery.queuedAt.toISOString()}::timestamptz)
            returning next_attempt_at
          `),
        );
        return { recorded: true, retryAt: retry ? new Date(retry.next_attempt_at) : undefined };
      }
    }
  });
}

async function disable(tx: Parameters<Parameters<Database['system']>[0]>[0], endpointId: string, reason: 'gone' | 'failing') {
  await tx.execute(sql`
    update webhook_endpoints set status = 'disabled', disabled_reason = ${reason}, updated_at = now()
    where id = ${endpointId} and status = 'enabled'
  `);
}

/** Gives back claims this worker has not started (on shutdown), so another worker takes them at once. */
export async function releaseClaims(database: Database, workerId: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await database.system((tx) =>
    tx.execute(sql`
      update webhook_deliveries set locked_until = null, locked_by = null
      where locked_by = ${workerId} and status = 'pending' and id in (${sql.join(ids.map((id) => sql`${id}`), sql`, `)})
    `),
  );
}

/** Queue depth (every pending row, due or scheduled) and how long the oldest due one has waited. */
export async function queueStats(database: Database): Promise<{ depth: number; oldestDueSeconds: number }> {
  const [row] = await database.system(async (tx) =>
    rowsOf<{ depth: number | string; oldest: number | string | null }>(
      await tx.execute(sql`
        select count(*) as depth,
               extract(epoch from now() - min(next_attempt_at) filter (where next_attempt_at <= now())) as oldest
        from webhook_deliveries where status = 'pending'
      `),
    ),
  );
  return { depth: Number(row?.depth ?? 0), oldestDueSeconds: Math.max(0, Number(row?.oldest ?? 0)) };
}
