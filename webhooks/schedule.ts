/**
 * When to try again. Production follows API.md: after 5 s, 5 min, 30 min, 2 h, 5 h,
 * 10 h, 10 h (eight attempts in all, about 28 hours), each with +/-20% jitter so a
 * receiver coming back is not hit by every retry at the same instant.
 */
export const RETRY_DELAYS_MS: readonly number[] = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3600_000,
  5 * 3600_000,
  10 * 3600_000,
  10 * 3600_000,
];

/** A receiver's Retry-After is honoured up to this much (a longer one would outlive the schedule). */
export const MAX_RETRY_AFTER_MS = 10 * 3600_000;
/** An endpoint whose every attempt has failed for this long is disabled. */
export const DISABLE_AFTER_FAILING_MS = 5 * 24 * 3600_000;

export interface RetryPolicy {
  delaysMs: readonly number[];
  /** 0.2 means +/-20%. */
  jitter: number;
  maxRetryAfterMs: number;
  disableAfterFailingMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  delaysMs: RETRY_DELAYS_MS,
  jitter: 0.2,
  maxRetryAfterMs: MAX_RETRY_AFTER_MS,
  disableAfterFailingMs: DISABLE_AFTER_FAILING_MS,
};

/**
 * The delay before the attempt after `attempt` (1-based), or undefined when that was the
 * last one. A Retry-After (429/503) is honoured as a floor: we never come back earlier
 * than the receiver asked, nor later than `maxRetryAfterMs` beyond the schedule.
 */
export function nextDelayMs(attempt: number, policy: RetryPolicy, retryAfterMs?: number, random = Math.random): number | undefined {
  const base = policy.delaysMs[attempt - 1];
  if (base === undefined) return undefined;
  const jittered = Math.round(base * (1 + policy.jitter * (2 * random() - 1)));
  if (retryAfterMs === undefined) return jittered;
  return Math.max(jittered, Math.min(retryAfterMs, policy.maxRetryAfterMs));
}
