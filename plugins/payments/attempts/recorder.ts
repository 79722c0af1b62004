import { sql } from 'drizzle-orm';
import { encode, runStatement, schema, type Database, type Tx } from '../../../db';
import type { ProcessorCallRecord } from '../../../processors/sdk/index.ts';
import { randomId } from '../../../runtime/ids';
import type { Logger } from '../../../runtime/logger';

/**
 * Keeps every processor call of a payment in `payment_attempts`, for support: the
 * `onCall` observer the payments layer gives its processor caller. A call made for a
 * request is held (`hold`) and inserted in the transaction that commits the request's
 * outcome (a payment's second commit, with no transaction of its own); any other call
 * (reconciliation, a held call whose commit failed) is written after the call and off
 * its path (a slow or failing insert never delays or fails a payment).
 */

/** The payments layer's processor keys (service/context.ts `processorKeys`): `nimbus:<our id>:<operation>`. */
const PROCESSOR_KEY = /^nimbus:((?:pay|re)_[A-Za-z0-9]+):[a-z]+$/;

/** Writes not landed yet, per database, so a read right after a payment sees its attempts. */
const pending = new WeakMap<Database, Set<Promise<unknown>>>();

function pendingOf(database: Database): Set<Promise<unknown>> {
  let set = pending.get(database);
  if (!set) {
    set = new Set();
    pending.set(database, set);
  }
  return set;
}

/** Bounded, so a read never hangs behind a write stuck on a database that went away. */
const FLUSH_TIMEOUT_MS = 2_000;

/** Waits (briefly) for this process's attempt writes in flight; the attempts list calls it first. */
export async function flushAttempts(database: Database): Promise<void> {
  const writes = [...pendingOf(database)];
  if (writes.length === 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, FLUSH_TIMEOUT_MS);
  });
  await Promise.race([Promise.allSettled(writes), timeout]);
  clearTimeout(timer);
}

/**
 * One statement: the payment (and tenant) come from our own key when the call had one
 * (`nimbus:pay_...:authorize`, `nimbus:re_...:refund`), else from the processor's
 * reference a `sync` asked about. A call that matches no payment (a test's own key)
 * inserts nothing.
 */
async function insertAttempt(database: Database, record: ProcessorCallRecord): Promise<void> {
  const ours = PROCESSOR_KEY.exec(record.idempotencyKey ?? '')?.[1];
  const paymentId = ours?.startsWith('pay_') ? ours : null;
  const refundId = ours?.startsWith('re_') ? ours : null;
  const reference = ours ? null : (record.reference ?? null);
  await database.system((tx) =>
    tx.execute(sql`
      with target as (
        select p.id as payment_id, p.tenant_id, null::text as refund_id from payments p where p.id = ${paymentId}
        union all
        select r.payment_id, r.tenant_id, r.id from refunds r where r.id = ${refundId}
        union all
        select p.id, p.tenant_id, null::text from payments p where p.processor = ${record.processor} and p.processor_reference = ${reference}
        union all
        select r.payment_id, r.tenant_id, r.id from refunds r where r.processor = ${record.processor} and r.processor_reference = ${reference}
        limit 1
      )
      insert into payment_attempts (id, tenant_id, payment_id, refund_id, processor, operation, kind, outcome, code, attempts, duration_ms)
      select ${randomId('att')}, tenant_id, payment_id, refund_id, ${record.processor}, ${record.operation}, ${record.kind},
             ${record.outcome}, ${record.code ?? null}, ${record.attempts}, ${record.durationMs}
      from target
    `),
  );
}

const INSERT_HELD = `insert into payment_attempts (id, tenant_id, payment_id, refund_id, processor, operation, kind, outcome, code, attempts, duration_ms, created_at)
  values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`;

/** The calls made under one processor-side key while a request holds it. */
export interface HeldAttempts {
  /** In the transaction that commits the outcome: inserts the calls made so far. */
  write(tx: Tx, target: { tenantId: string; paymentId: string; refundId?: string }): Promise<void>;
  /** Always (only the first call counts): `committed` says whether the last `write` committed; what did not is written apart. */
  release(committed: boolean): void;
}

export interface AttemptRecorder {
  /** The observer to pass as `onCall` to the processor caller. */
  onCall(record: ProcessorCallRecord): void;
  /** Holds the calls made under `processorKey` (`nimbus:pay_...:authorize`) for the request's last transaction. */
  hold(processorKey: string): HeldAttempts;
}

export function createAttemptRecorder(deps: { database: Database; logger: Logger }): AttemptRecorder {
  const { database, logger } = deps;
  const held = new Map<string, ProcessorCallRecord[]>();

  function writeApart(record: ProcessorCallRecord): void {
    const write = insertAttempt(database, record).catch((error: unknown) =>
      logger.error({ err: error, processor: record.processor, operation: record.operation }, 'payment attempt not recorded'),
    );
    const set = pendingOf(database);
    set.add(write);
    void write.finally(() => set.delete(write));
  }

  return {
    onCall(record) {
      const calls = record.idempotencyKey === undefined ? undefined : held.get(record.idempotencyKey);
      if (calls) calls.push(record);
      else writeApart(record);
    },
    hold(processorKey) {
      const calls: ProcessorCallRecord[] = [];
      held.set(processorKey, calls);
      let written = 0;
      let released = false;
      return {
        async write(tx, target) {
          written = calls.length;
          const { createdAt } = schema.paymentAttempts;
          await Promise.all(
            calls.slice(0, written).map((record) =>
              runStatement(tx, INSERT_HELD, [
                randomId('att'), target.tenantId, target.paymentId, target.refundId ?? null, record.processor, record.operation, record.kind,
                record.outcome, record.code ?? null, record.attempts, record.durationMs, encode(createdAt, new Date()),
              ]),
            ),
          );
        },
        release(committed) {
          if (released) return;
          released = true;
          if (held.get(processorKey) === calls) held.delete(processorKey);
          for (const record of calls.slice(committed ? written : 0)) writeApart(record);
        },
      };
    },
  };
}
