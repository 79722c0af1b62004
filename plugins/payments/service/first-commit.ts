import type { Tx } from '../../../db';
import type { IdempotentRequest } from '../../idempotency';
import type { PaymentsContext } from './context';

/** The key had a record already: the fast path's writes are rolled back, and the record decides. */
class KeyContended extends Error {
  constructor() {
    super('the idempotency key has a record');
    this.name = 'KeyContended';
  }
}

export type FirstCommit<T> = { kind: 'done'; result: T } | { kind: 'resume'; resourceId: string };

/**
 * A request's first transaction with its Idempotency-Key claimed inside it (the payment
 * routes claim in their own transactions, see plugins/idempotency `claimsIdempotencyKey`).
 *
 * The claim is an INSERT whose answer nobody waits for: it travels with `body`'s first
 * statements. When the key turns out to have a record (a retry, a racing duplicate), the
 * whole transaction rolls back and a fresh one asks the record: it replays, refuses (409,
 * 422), names the object an earlier request bound (`resume`), or gives this request the
 * key, and `body` runs again there. `after` runs once the key is held (it may write the
 * request's answer, which needs the claim).
 */
export async function firstCommit<T>(
  ctx: Pick<PaymentsContext, 'database'>,
  tenantId: string,
  idempotency: IdempotentRequest | undefined,
  resourceId: string | undefined,
  body: (tx: Tx) => Promise<T>,
  after?: (tx: Tx, result: T) => Promise<void>,
): Promise<FirstCommit<T>> {
  const { database } = ctx;
  if (!idempotency) {
    const result = await database.tenant(tenantId, async (tx) => {
      const result = await body(tx);
      await after?.(tx, result);
      return result;
    });
    return { kind: 'done', result };
  }
  try {
    const result = await database.tenant(tenantId, async (tx) => {
      // Both settle before either decides: when the key has a record, `body` sees the state
      // the earlier request left (a refund already taken, a payment already captured) and
      // may refuse. That refusal is not this request's answer; the record's is.
      const [claimed, produced] = await Promise.allSettled([idempotency.claim(tx, resourceId), body(tx)]);
      if (claimed.status === 'rejected') throw claimed.reason;
      if (!claimed.value) throw new KeyContended();
      if (produced.status === 'rejected') throw produced.reason;
      await after?.(tx, produced.value);
      return produced.value;
    });
    return { kind: 'done', result };
  } catch (error) {
    if (!(error instanceof KeyContended)) throw error;
  }
  return database.tenant(tenantId, async (tx): Promise<FirstCommit<T>> => {
    const { resume } = await idempotency.resolve(tx, resourceId);
    if (resume !== null) return { kind: 'resume', resourceId: resume };
    const result = await body(tx);
    await after?.(tx, result);
    return { kind: 'done', result };
  });
}
