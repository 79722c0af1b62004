import { type Database, runStatement } from '../db';
import { ASYNCHRONOUS_COMMIT, type AttemptResult, claimIn, type ClaimedDelivery, type ClaimOptions, recordAttempt, type RecordedAttempt } from './queue';
import type { RetryPolicy } from './schedule';

/**
 * Recording delivery outcomes, group-committed. A success (nearly every attempt) is
 * queued, and one transaction records every success queued so far: while it commits,
 * the next ones queue behind it. A busy worker records dozens of deliveries per commit
 * instead of one, which is what lets one worker deliver more than a thousand a second
 * against a database that commits a few hundred transactions a second. The same
 * transaction claims the next deliveries for the slots it frees (`refill`): recording a
 * batch and fetching the next one cost one commit, not two. A failure keeps its own
 * transaction (a retry to schedule, a streak to extend, maybe an endpoint to disable),
 * as in queue.ts.
 */

const SUCCEEDED = `
  update webhook_deliveries d
  set status = 'succeeded', response_status = v.status, response_body = v.body, error = null,
      duration_ms = v.duration_ms, attempted_at = now(), next_attempt_at = null, locked_until = null, locked_by = null
  from unnest($1::text[], $2::int[], $3::text[], $4::int[]) as v(id, status, body, duration_ms)
  where d.id = v.id and d.status = 'pending' and d.locked_by = $5
  returning d.id`;

/** A success ends an endpoint's failing streak (five days of it disable the endpoint). */
const STREAK_ENDED = 'update webhook_endpoints set failing_since = null where id = any($1::text[]) and failing_since is not null';

type Success = Extract<AttemptResult, { outcome: 'succeeded' }>;

interface Queued {
  delivery: ClaimedDelivery;
  result: Success;
  settle(recorded: RecordedAttempt): void;
  fail(error: unknown): void;
}

export interface OutcomeRecorder {
  record(delivery: ClaimedDelivery, result: AttemptResult): Promise<RecordedAttempt>;
}

/** The worker's side of a flush: how many to claim for the slots the batch frees, and where they go once committed. */
export interface Refill {
  size(freed: number): number;
  claim: Omit<ClaimOptions, 'batch'>;
  launch(deliveries: ClaimedDelivery[]): void;
}

export function createOutcomeRecorder(database: Database, workerId: string, policy: RetryPolicy, refill?: Refill): OutcomeRecorder {
  let queue: Queued[] = [];
  let flushing = false;

  async function flush(batch: Queued[]): Promise<void> {
    const ids = batch.map((entry) => entry.delivery.id);
    const endpoints = [...new Set(batch.map((entry) => entry.delivery.endpointId))];
    const take = refill?.size(batch.length) ?? 0;
    const [recorded, claimed] = await database.system(async (tx) => {
      const [, rows, , next] = await Promise.all([
        runStatement(tx, ASYNCHRONOUS_COMMIT, []),
        runStatement(tx, SUCCEEDED, [
          ids,
          batch.map((entry) => entry.result.responseStatus),
          batch.map((entry) => entry.result.responseBody),
          batch.map((entry) => entry.result.durationMs),
          workerId,
        ]),
        runStatement(tx, STREAK_ENDED, [endpoints]),
        // After the update in the same transaction: the recorded ones no longer count as in flight.
        refill && take > 0 ? claimIn(tx, { ...refill.claim, batch: take }) : [],
      ]);
      return [new Set(rows.map((row) => row.id as string)), next] as const;
    });
    // Not recorded: the lease was lost (another worker owns the row now), as recordAttempt reports it.
    for (const entry of batch) entry.settle({ recorded: recorded.has(entry.delivery.id) });
    if (claimed.length > 0) refill?.launch(claimed);
  }

  function drain(): void {
    if (flushing || queue.length === 0) return;
    flushing = true;
    const batch = queue;
    queue = [];
    flush(batch)
      .catch((error: unknown) => batch.forEach((entry) => entry.fail(error)))
      .finally(() => {
        flushing = false;
        drain();
      });
  }

  return {
    record(delivery, result) {
      if (result.outcome !== 'succeeded') return recordAttempt(database, delivery, workerId, result, policy);
      return new Promise<RecordedAttempt>((settle, fail) => {
        queue.push({ delivery, result, settle, fail });
        drain();
      });
    },
  };
}
