import { Type, type Static } from '@sinclair/typebox';

export const BreakerOptions = Type.Object({
  /** Consecutive failed calls that open the circuit (default 5). */
  failureThreshold: Type.Optional(Type.Integer({ minimum: 1 })),
  /** How long the circuit stays open before one probe is let through (default 30000 ms). */
  openMs: Type.Optional(Type.Integer({ minimum: 1 })),
});
export type BreakerOptions = Static<typeof BreakerOptions>;

export type BreakerState = 'closed' | 'open' | 'half_open';

/**
 * One circuit breaker per processor. Closed: calls pass, consecutive failures are
 * counted. Open: calls fail fast, so a dead processor costs nothing and requests fail
 * over at once instead of each waiting for a timeout. After `openMs`, half-open: exactly
 * one probe passes; its success closes the circuit, its failure re-opens it.
 */
export function createCircuitBreaker(
  options: BreakerOptions & { now: () => number; onChange?: (state: BreakerState) => void },
) {
  const failureThreshold = options.failureThreshold ?? 5;
  const openMs = options.openMs ?? 30_000;
  let state: BreakerState = 'closed';
  let failures = 0;
  let openedAt = 0;
  let probeInFlight = false;

  function moveTo(next: BreakerState): void {
    if (next === state) return;
    state = next;
    options.onChange?.(next);
  }

  /** May a call go out now? In half-open state only the first caller gets `true`. */
  function tryAcquire(): boolean {
    switch (state) {
      case 'closed':
        return true;
      case 'open':
        if (options.now() - openedAt < openMs) return false;
        moveTo('half_open');
        probeInFlight = true;
        return true;
      case 'half_open':
        if (probeInFlight) return false;
        probeInFlight = true;
        return true;
    }
  }

  function recordSuccess(): void {
    failures = 0;
    probeInFlight = false;
    moveTo('closed');
  }

  function recordFailure(): void {
    probeInFlight = false;
    failures += 1;
    if (state === 'half_open' || failures >= failureThreshold) {
      openedAt = options.now();
      moveTo('open');
    }
  }

  return {
    tryAcquire,
    recordSuccess,
    recordFailure,
    state: (): BreakerState => state,
  };
}

export type CircuitBreaker = ReturnType<typeof createCircuitBreaker>;
