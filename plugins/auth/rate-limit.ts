import { RateLimiterDrizzle } from 'rate-limiter-flexible';
import { schema, type Database } from '../../db';

/**
 * Failed client authentications, counted in PostgreSQL (rate-limiter-flexible's Drizzle
 * store over table auth_rate_limits), so ten replicas share one budget instead of
 * granting ten. A fixed window per key: `limit` failures within `windowMs` of the first
 * block that key until the window ends.
 */
export interface FailureLimiter {
  /** Seconds until the most blocked of `keys` may try again; 0 when none is blocked. */
  blockedFor(keys: readonly string[]): Promise<number>;
  /** Counts one failure against each key. */
  record(keys: readonly string[]): Promise<void>;
}

export function createFailureLimiter(database: Database, options: { limit?: number; windowMs?: number } = {}): FailureLimiter {
  const limit = options.limit ?? 10;
  const limiter = new RateLimiterDrizzle({
    storeClient: database.db,
    schema: schema.authRateLimits,
    points: limit,
    duration: Math.ceil((options.windowMs ?? 60_000) / 1000),
    // Expired rows are deleted by a timer; it must not keep a finished process alive (it unrefs).
    clearExpiredByTimeout: true,
  });
  return {
    async blockedFor(keys) {
      let wait = 0;
      for (const key of keys) {
        const state = await limiter.get(key);
        if (state && state.consumedPoints >= limit) wait = Math.max(wait, Math.max(1, Math.ceil(state.msBeforeNext / 1000)));
      }
      return wait;
    },
    async record(keys) {
      for (const key of keys) await limiter.penalty(key, 1);
    },
  };
}
