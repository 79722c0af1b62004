/**
 * What "nothing lost, nothing doubled" means, checked in SQL on the drill's database
 * after the traffic, against what the clients were told (the journal), the simulator's
 * ledger (its processor-side state, in the same database) and what the webhook receiver
 * saw. Each check counts; the first few cases of each are kept as readable violations.
 */
import { referenceFor } from '../../../processors/simulator/ledger';
import { processorKeys } from '../../../plugins/payments/service/context';
import type { Sql } from './cluster';
import { retrying } from './cluster';
import type { Journal } from './flows';
import type { DrillReceiver } from './receiver';

export interface Verdict {
  /** Keys with more than one object; payments charged twice at the processor; events written twice. */
  duplicates: number;
  /** Answers the clients got that the database does not hold; charges without a payment; events never delivered. */
  lost: number;
  /** Payments whose non-failed refunds exceed what was received (NimbusPay's or the processor's books). */
  overRefunds: number;
  /** Payments, refunds or deliveries still open after reconciliation had its time. */
  stuck: number;
  /** NimbusPay and the processor disagree on a payment's outcome or amounts (a lie either way). */
  mismatches: number;
  /** Keys whose request never got a final answer within the horizon (their object, if any, is still checked). */
  unresolved: number;
  /** Idempotency keys still claimed (in_progress) at the end: a retry with them answers 409 until the claim's lock runs out. */
  claimedKeys: number;
  payments: number;
  refunds: number;
  events: number;
  authorizations: number;
  webhookResends: number;
  violations: string[];
}

type PaymentRow = {
  id: string;
  status: string;
  amount: number;
  amount_received: number;
  amount_refunded: number;
  pending_action: string | null;
  drill_key: string | null;
  failure_code: string | null;
};
type RefundRow = { id: string; payment_id: string; amount: number; status: string; drill_key: string | null };
type LedgerPayment = { status: string; amount: number; amountCaptured: number; amountRefunded: number };

function note(verdict: Verdict, text: string): void {
  if (verdict.violations.length < 40) verdict.violations.push(text);
}

/** Polls until nothing is open (processing, a pending capture/cancel, a pending refund), or the time is up. */
export async function waitForSettled(sql: Sql, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await retrying(async () => {
      const [row] = await sql`select
        (select count(*) from payments where status = 'processing' or pending_action is not null)::int
        + (select count(*) from refunds where status = 'pending')::int as n`;
      return (row as { n: number }).n;
    });
    if (open === 0 || Date.now() > deadline) return open;
    await Bun.sleep(500);
  }
}

/**
 * Polls until no webhook delivery is pending. A queue still draining is waited for (a slow
 * receiver takes its time); one that has not shrunk for `stallMs` is stuck, and `timeoutMs`
 * bounds the wait in any case.
 */
export async function waitForDeliveries(sql: Sql, timeoutMs: number, stallMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let lowest = Number.POSITIVE_INFINITY;
  let progressAt = Date.now();
  for (;;) {
    const [row] = await retrying(() => sql`select count(*)::int as n from webhook_deliveries where status = 'pending'`);
    const pending = (row as { n: number }).n;
    if (pending < lowest) {
      lowest = pending;
      progressAt = Date.now();
    }
    if (pending === 0 || Date.now() > deadline || Date.now() - progressAt > stallMs) return pending;
    await Bun.sleep(500);
  }
}

export async function verify(sql: Sql, journal: Journal, receiver?: DrillReceiver, options: { endpoints?: Map<string, string> } = {}): Promise<Verdict> {
  const verdict: Verdict = {
    duplicates: 0,
    lost: 0,
    overRefunds: 0,
    stuck: 0,
    mismatches: 0,
    unresolved: 0,
    claimedKeys: 0,
    payments: 0,
    refunds: 0,
    events: 0,
    authorizations: 0,
    webhookResends: 0,
    violations: [],
  };
  const payments = (await sql`select id, status, amount::float8 as amount, amount_received::float8 as amount_received,
      amount_refunded::float8 as amount_refunded, pending_action, metadata->>'drill_key' as drill_key, failure->>'code' as failure_code
      from payments`) as unknown as PaymentRow[];
  const refunds = (await sql`select id, payment_id, amount::float8 as amount, status, metadata->>'drill_key' as drill_key from refunds`) as unknown as RefundRow[];
  const ledgerRows = (await sql`select key, value from processor_state where processor = 'simulator'`) as unknown as Array<{ key: string; value: unknown }>;
  verdict.payments = payments.length;
  const [claimed] = (await sql`select count(*)::int as n from idempotency_keys where state = 'in_progress'`) as unknown as Array<{ n: number }>;
  verdict.claimedKeys = claimed?.n ?? 0;
  if (verdict.claimedKeys > 0) {
    const rows = (await sql`select key, path, resource_id, locked_until > now() as locked, created_at from idempotency_keys where state = 'in_progress' order by created_at limit 5`) as unknown as Array<Record<string, unknown>>;
    for (const row of rows) note(verdict, `key ${row.key} still claimed: ${row.path}, bound to ${row.resource_id ?? 'nothing'}, ${row.locked ? 'locked' : 'lock lapsed'} (claimed ${new Date(row.created_at as string).toISOString()})`);
  }
  verdict.refunds = refunds.length;

  const byId = new Map(payments.map((p) => [p.id, p]));
  const refundsById = new Map(refunds.map((r) => [r.id, r]));
  const paymentsByKey = new Map<string, PaymentRow[]>();
  for (const p of payments) if (p.drill_key) paymentsByKey.set(p.drill_key, [...(paymentsByKey.get(p.drill_key) ?? []), p]);
  const refundsByKey = new Map<string, RefundRow[]>();
  for (const r of refunds) if (r.drill_key) refundsByKey.set(r.drill_key, [...(refundsByKey.get(r.drill_key) ?? []), r]);
  const refundsOf = new Map<string, RefundRow[]>();
  for (const r of refunds) refundsOf.set(r.payment_id, [...(refundsOf.get(r.payment_id) ?? []), r]);

  // 1. Every key maps to exactly one object, and it is the one the client was told about.
  for (const [key, rows] of paymentsByKey) {
    if (rows.length > 1) {
      verdict.duplicates += rows.length - 1;
      note(verdict, `key ${key}: ${rows.length} payments (${rows.map((r) => r.id).join(', ')})`);
    }
  }
  for (const [key, rows] of refundsByKey) {
    if (rows.length > 1) {
      verdict.duplicates += rows.length - 1;
      note(verdict, `key ${key}: ${rows.length} refunds`);
    }
  }
  for (const record of journal.records) {
    const { answer, key } = record;
    if (answer.unresolved) {
      verdict.unresolved += 1;
      continue;
    }
    const code = answer.body?.error?.code;
    if (answer.status >= 400 && code !== 'refund_exceeds_captured') {
      note(verdict, `${record.op} ${key} (payment ${record.paymentId ?? '-'}) ended ${answer.status} ${code ?? ''} after ${answer.attempts} attempt(s)`);
    }
    const objectId: string | undefined = answer.body?.id;
    if (record.op === 'create') {
      const rows = paymentsByKey.get(key) ?? [];
      if (answer.status === 201) {
        if (!byId.has(objectId!)) {
          verdict.lost += 1;
          note(verdict, `create ${key} answered 201 ${objectId}, which the database does not hold`);
        } else if (rows.length !== 1 || rows[0]!.id !== objectId) {
          verdict.lost += 1;
          note(verdict, `create ${key} answered ${objectId}, the key holds ${rows.map((r) => r.id).join(', ') || 'nothing'}`);
        }
      }
    } else if (record.op === 'refund') {
      const rows = refundsByKey.get(key) ?? [];
      if (answer.status === 201) {
        if (!refundsById.has(objectId!)) {
          verdict.lost += 1;
          note(verdict, `refund ${key} answered 201 ${objectId}, which the database does not hold`);
        }
      } else if (answer.status === 409 && rows.length > 0) {
        // Refused, yet something was written: a partial write.
        verdict.lost += 1;
        note(verdict, `refund ${key} answered 409 ${answer.body?.error?.code} but left refund ${rows[0]!.id} (${rows[0]!.status})`);
      }
    } else if (answer.status === 200) {
      // capture / cancel: what the answer said must be what the database ends with (pending ones after reconciliation).
      const row = byId.get(record.paymentId!);
      const said = answer.body?.status as string;
      const want = record.op === 'capture' ? 'succeeded' : 'canceled';
      if (!row) {
        verdict.lost += 1;
        note(verdict, `${record.op} ${key}: payment ${record.paymentId} missing`);
      } else if ((said === want || said === 'requires_capture') && row.status !== want && row.pending_action === null) {
        verdict.mismatches += 1;
        note(verdict, `${record.op} ${key} answered 200 ${said}, payment ${row.id} is ${row.status}`);
      } else if (record.op === 'capture' && row.status === 'succeeded' && row.amount_received !== record.amount) {
        verdict.mismatches += 1;
        note(verdict, `capture ${key} asked ${record.amount}, payment ${row.id} received ${row.amount_received}`);
      }
    }
  }

  // 2. Refund arithmetic: never more than was received; amount_refunded counts the succeeded ones.
  for (const p of payments) {
    const rs = refundsOf.get(p.id) ?? [];
    const open = rs.filter((r) => r.status !== 'failed').reduce((sum, r) => sum + r.amount, 0);
    const succeeded = rs.filter((r) => r.status === 'succeeded').reduce((sum, r) => sum + r.amount, 0);
    if (open > p.amount_received) {
      verdict.overRefunds += 1;
      note(verdict, `payment ${p.id}: refunds ${open} > received ${p.amount_received}`);
    }
    if (succeeded !== p.amount_refunded) {
      verdict.mismatches += 1;
      note(verdict, `payment ${p.id}: amount_refunded ${p.amount_refunded}, succeeded refunds ${succeeded}`);
    }
  }

  // 3. Nothing open once reconciliation had its time.
  for (const p of payments) {
    if (p.status === 'processing' || p.pending_action !== null) {
      verdict.stuck += 1;
      note(verdict, `payment ${p.id} stuck: ${p.status}${p.pending_action ? ` (pending ${p.pending_action})` : ''}`);
    }
  }
  for (const r of refunds) {
    if (r.status === 'pending') {
      verdict.stuck += 1;
      note(verdict, `refund ${r.id} stuck: pending`);
    }
  }

  // 4. The processor's books: one authorization per payment, the same outcome and amounts, no charge without a payment.
  const ledger = new Map<string, LedgerPayment>();
  const authorizeKeys = new Set<string>();
  for (const row of ledgerRows) {
    if (row.key.startsWith('payment:')) ledger.set(row.key.slice('payment:'.length), row.value as LedgerPayment);
    if (row.key.startsWith('op:authorize:')) authorizeKeys.add(row.key.slice('op:authorize:'.length));
  }
  verdict.authorizations = authorizeKeys.size;
  const referenceOf = new Map<string, string>();
  for (const p of payments) referenceOf.set(referenceFor('payment', processorKeys.authorize(p.id)), p.id);
  const knownKeys = new Set(payments.map((p) => processorKeys.authorize(p.id)));
  for (const key of authorizeKeys) {
    if (!knownKeys.has(key)) {
      verdict.lost += 1;
      note(verdict, `processor authorization ${key} belongs to no payment`);
    }
  }
  for (const [reference, entry] of ledger) {
    const id = referenceOf.get(reference);
    if (!id) {
      if (entry.status === 'succeeded' || entry.status === 'authorized') {
        verdict.lost += 1;
        note(verdict, `processor charge ${reference} (${entry.status}) belongs to no payment`);
      }
      continue;
    }
    const p = byId.get(id)!;
    const expected: Record<string, string[]> = {
      succeeded: ['succeeded'],
      requires_capture: ['authorized'],
      canceled: ['canceled'],
      failed: ['failed'],
      processing: ['pending', 'authorized', 'succeeded', 'failed'],
      requires_confirmation: [],
    };
    if (!(expected[p.status] ?? []).includes(entry.status)) {
      verdict.mismatches += 1;
      note(verdict, `payment ${p.id} is ${p.status}, the processor has it ${entry.status}`);
    } else if (p.status === 'succeeded' && entry.amountCaptured !== p.amount_received) {
      verdict.mismatches += 1;
      note(verdict, `payment ${p.id} received ${p.amount_received}, the processor captured ${entry.amountCaptured}`);
    }
    const open = (refundsOf.get(p.id) ?? []).filter((r) => r.status !== 'failed').reduce((sum, r) => sum + r.amount, 0);
    if (entry.amountRefunded > entry.amountCaptured) {
      verdict.overRefunds += 1;
      note(verdict, `processor refunded ${entry.amountRefunded} of ${entry.amountCaptured} for ${p.id}`);
    }
    if (entry.amountRefunded !== open) {
      verdict.mismatches += 1;
      note(verdict, `payment ${p.id}: refunds ${open}, the processor refunded ${entry.amountRefunded}`);
    }
  }
  for (const p of payments) {
    const charged = ['succeeded', 'requires_capture'].includes(p.status);
    if (charged && !ledger.has(referenceFor('payment', processorKeys.authorize(p.id)))) {
      verdict.mismatches += 1;
      note(verdict, `payment ${p.id} is ${p.status} but the processor never authorized it`);
    }
  }

  // 5. Events: exactly one created and one per status entered, for every object (no partial writes, no doubles).
  const events = (await sql`select object_id, type, count(*)::int as n from events group by 1, 2`) as unknown as Array<{ object_id: string; type: string; n: number }>;
  const eventCount = new Map<string, number>();
  for (const e of events) {
    eventCount.set(`${e.object_id}|${e.type}`, e.n);
    verdict.events += e.n;
    if (e.n > 1) {
      verdict.duplicates += e.n - 1;
      note(verdict, `${e.n} ${e.type} events for ${e.object_id}`);
    }
  }
  for (const p of payments) {
    const wanted = ['payment.created', ...(p.status === 'requires_confirmation' || p.status === 'processing' ? [] : [`payment.${p.status}`])];
    for (const type of wanted) {
      if (!eventCount.has(`${p.id}|${type}`)) {
        verdict.lost += 1;
        note(verdict, `payment ${p.id} (${p.status}) has no ${type} event`);
      }
    }
  }
  for (const r of refunds) {
    for (const type of ['refund.created', ...(r.status === 'pending' ? [] : [`refund.${r.status}`])]) {
      if (!eventCount.has(`${r.id}|${type}`)) {
        verdict.lost += 1;
        note(verdict, `refund ${r.id} (${r.status}) has no ${type} event`);
      }
    }
  }

  // 6. Webhooks: every event at every endpoint at least once; the same id twice only as a re-send of the same body.
  if (receiver && options.endpoints) {
    const eventIds = new Set(((await sql`select id from events`) as unknown as Array<{ id: string }>).map((e) => e.id));
    const deliveries = (await sql`select endpoint_id, event_id, count(*) filter (where status = 'succeeded')::int as ok,
        count(*) filter (where status = 'pending')::int as pending from webhook_deliveries group by 1, 2`) as unknown as Array<{
      endpoint_id: string;
      event_id: string;
      ok: number;
      pending: number;
    }>;
    // What the pending ones wait for, when some are left: the diagnosis of a stalled queue.
    const waiting = (await sql`select attempt, (next_attempt_at > now()) as scheduled, (locked_until > now()) as leased,
        left(coalesce(error, response_status::text, ''), 80) as why, count(*)::int as n
        from webhook_deliveries where status = 'pending' group by 1, 2, 3, 4 order by n desc limit 5`) as unknown as Array<Record<string, unknown>>;
    for (const w of waiting) note(verdict, `pending deliveries: ${JSON.stringify(w)}`);
    const lastFailures = (await sql`select attempt, left(coalesce(error, response_status::text, ''), 120) as why, count(*)::int as n
        from webhook_deliveries where status = 'failed' group by 1, 2 order by n desc limit 3`) as unknown as Array<Record<string, unknown>>;
    if (waiting.length > 0) for (const f of lastFailures) note(verdict, `failed attempts: ${JSON.stringify(f)}`);
    for (const d of deliveries) {
      if (d.pending > 0) {
        verdict.stuck += 1;
        note(verdict, `delivery of ${d.event_id} to ${d.endpoint_id} still pending`);
      }
      if (d.ok > 1) {
        verdict.duplicates += d.ok - 1;
        note(verdict, `${d.ok} succeeded deliveries of ${d.event_id} to ${d.endpoint_id}`);
      }
    }
    for (const [endpointId, path] of options.endpoints) {
      const sightings = receiver.seen.get(path) ?? new Map();
      for (const id of eventIds) {
        const sighting = sightings.get(id);
        if (!sighting) {
          verdict.lost += 1;
          note(verdict, `event ${id} never reached endpoint ${endpointId} (${path})`);
        } else if (sighting.count > 1) {
          verdict.webhookResends += sighting.count - 1;
          if (sighting.bodies.size > 1) {
            verdict.duplicates += 1;
            note(verdict, `endpoint ${path} got ${id} ${sighting.count} times with ${sighting.bodies.size} different bodies`);
          }
        }
      }
      for (const id of sightings.keys()) {
        if (!eventIds.has(id)) {
          verdict.duplicates += 1;
          note(verdict, `endpoint ${path} got webhook-id ${id}, which is no event`);
        }
      }
    }
  }
  return verdict;
}
