/**
 * Counts failed client authentications per key (client id, source address) in a sliding
 * one-minute window. In memory per process: with N replicas an attacker gets at most N
 * times the budget, which still makes online guessing of a 256-bit secret pointless.
 */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit = 10,
    private readonly windowMs = 60_000,
    private readonly maxKeys = 50_000,
  ) {}

  private recent(key: string, now: number): number[] {
    const times = (this.failures.get(key) ?? []).filter((time) => now - time < this.windowMs);
    if (times.length === 0) this.failures.delete(key);
    else this.failures.set(key, times);
    return times;
  }

  /** Seconds until `key` may try again, or 0 when it is not blocked. */
  retryAfter(key: string, now = Date.now()): number {
    const times = this.recent(key, now);
    if (times.length < this.limit) return 0;
    const oldestThatCounts = times[times.length - this.limit]!;
    return Math.max(1, Math.ceil((oldestThatCounts + this.windowMs - now) / 1000));
  }

  record(key: string, now = Date.now()): void {
    const times = this.recent(key, now);
    times.push(now);
    this.failures.set(key, times.slice(-this.limit));
    if (this.failures.size > this.maxKeys) this.failures.delete(this.failures.keys().next().value!);
  }
}
