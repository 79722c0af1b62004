import { sql } from 'drizzle-orm';
import { type Database, pendingMigrations, rowsOf } from '../../../db';
import type { SupportHealth } from './model';

/**
 * The numbers of the health page, each from where it is true for the whole deployment:
 * the database for queues, backlogs and the last hour (every replica writes there), this
 * replica's metrics registry for circuit breakers (see health.ts).
 */

type Row = Record<string, string | number | Date | null>;
const num = (value: unknown): number => Number(value ?? 0);
const iso = (value: unknown): string | null => (value === null || value === undefined ? null : new Date(value as string).toISOString());

/** As GET /health/ready decides it (plugins/ops): draining, database reachable, migrations current. */
export async function readiness(database: Database, draining: boolean): Promise<SupportHealth['readiness']> {
  if (draining) return { status: 'unavailable', checks: { process: 'draining' } };
  try {
    await database.ping(1500);
  } catch {
    return { status: 'unavailable', checks: { database: 'unreachable' } };
  }
  const pending = await pendingMigrations(database).catch(() => -1);
  if (pending !== 0) return { status: 'unavailable', checks: { database: 'ok', migrations: pending < 0 ? 'unknown' : `${pending} pending` } };
  return { status: 'ok', checks: { database: 'ok', migrations: 'current' } };
}

/** The webhook queue as the delivery worker measures it (webhooks/queue.ts `queueStats`), plus endpoints in trouble. */
export async function webhookQueue(database: Database): Promise<SupportHealth['webhooks']> {
  const [queue] = rowsOf<Row>(
    await database.system((tx) =>
      tx.execute(sql`
        select count(*) as depth,
               extract(epoch from now() - min(next_attempt_at) filter (where next_attempt_at <= now())) as oldest
        from webhook_deliveries where status = 'pending'
      `),
    ),
  );
  const [endpoints] = rowsOf<Row>(
    await database.system((tx) =>
      tx.execute(sql`
        select count(*) filter (where status = 'enabled' and failing_since is not null) as failing,
               count(*) filter (where status = 'disabled' and disabled_reason is not null) as disabled
        from webhook_endpoints
      `),
    ),
  );
  return {
    queue_depth: num(queue?.depth),
    oldest_pending_age_seconds: Math.max(0, num(queue?.oldest)),
    failing_endpoints: num(endpoints?.failing),
    disabled_endpoints: num(endpoints?.disabled),
  };
}

/** What reconciliation still has to settle: the rows its worker claims when their next_sync_at comes. */
export async function reconciliationBacklog(database: Database): Promise<SupportHealth['reconciliation']> {
  const [payments] = rowsOf<Row>(
    await database.system((tx) =>
      tx.execute(sql`
        select count(*) as open, count(*) filter (where next_sync_at <= now()) as due, min(created_at) as oldest
        from payments where next_sync_at is not null and (status = 'processing' or pending_action is not null)
      `),
    ),
  );
  const [refunds] = rowsOf<Row>(
    await database.system((tx) =>
      tx.execute(sql`
        select count(*) as open, count(*) filter (where next_sync_at <= now()) as due, min(created_at) as oldest
        from refunds where next_sync_at is not null and status = 'pending'
      `),
    ),
  );
  const oldest = [payments?.oldest, refunds?.oldest].filter((value) => value !== null && value !== undefined).map((value) => new Date(value as string).getTime());
  return {
    payments_open: num(payments?.open),
    payments_due: num(payments?.due),
    refunds_open: num(refunds?.open),
    refunds_due: num(refunds?.due),
    oldest_open_since: oldest.length === 0 ? null : new Date(Math.min(...oldest)).toISOString(),
  };
}

/** Calls, errors and p95 latency of the last hour by processor, from the recorded attempts. */
export async function processorHour(database: Database): Promise<Map<string, { calls: number; errors: number; p95: number | null }>> {
  const rows = rowsOf<Row>(
    await database.system((tx) =>
      tx.execute(sql`
        select processor, count(*) as calls, count(*) filter (where kind <> 'result') as errors,
               percentile_cont(0.95) within group (order by duration_ms) as p95
        from payment_attempts where created_at >= now() - interval '1 hour'
        group by processor
      `),
    ),
  );
  return new Map(rows.map((row) => [String(row.processor), { calls: num(row.calls), errors: num(row.errors), p95: row.p95 === null ? null : num(row.p95) }]));
}

/**
 * The last hour minute by minute: processor calls (indexed by created_at) and webhook
 * attempts. webhook_deliveries has no index on attempted_at, so that half reads the
 * table; it is one query per page refresh of a few support users.
 */
export async function lastHour(database: Database): Promise<SupportHealth['series']> {
  const calls = rowsOf<Row>(
    await database.system((tx) =>
      tx.execute(sql`
        select date_trunc('minute', created_at) as at, count(*) as calls, count(*) filter (where kind <> 'result') as errors,
               percentile_cont(0.95) within group (order by duration_ms) as p95
        from payment_attempts where created_at >= date_trunc('minute', now()) - interval '59 minutes'
        group by 1
      `),
    ),
  );
  const deliveries = rowsOf<Row>(
    await database.system((tx) =>
      tx.execute(sql`
        select date_trunc('minute', attempted_at) as at, count(*) filter (where status = 'succeeded') as succeeded,
               count(*) filter (where status = 'failed') as failed
        from webhook_deliveries where attempted_at >= date_trunc('minute', now()) - interval '59 minutes'
        group by 1
      `),
    ),
  );
  const [clock] = rowsOf<Row>(await database.system((tx) => tx.execute(sql`select date_trunc('minute', now()) as now`)));
  const end = new Date(iso(clock?.now) ?? new Date().toISOString()).getTime();
  const byMinute = (rows: Row[]) => new Map(rows.map((row) => [new Date(row.at as string).getTime(), row]));
  const callRows = byMinute(calls);
  const deliveryRows = byMinute(deliveries);
  const points: SupportHealth['series']['points'] = [];
  for (let minute = 59; minute >= 0; minute -= 1) {
    const at = end - minute * 60_000;
    const call = callRows.get(at);
    const delivery = deliveryRows.get(at);
    points.push({
      at: new Date(at).toISOString(),
      processor_calls: num(call?.calls),
      processor_errors: num(call?.errors),
      processor_p95_ms: call?.p95 === null || call?.p95 === undefined ? null : num(call.p95),
      webhook_succeeded: num(delivery?.succeeded),
      webhook_failed: num(delivery?.failed),
    });
  }
  return { step_seconds: 60, points };
}
