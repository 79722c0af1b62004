import { describe, expect, test } from 'bun:test';
import { createCircuitBreaker, type BreakerState } from './breaker.ts';

describe('circuit breaker', () => {
  test('closed -> open after the threshold of consecutive failures; a success resets the count', () => {
    const breaker = createCircuitBreaker({ failureThreshold: 2, openMs: 100, now: () => 0 });
    breaker.recordFailure();
    breaker.recordSuccess();
    breaker.recordFailure();
    expect(breaker.state()).toBe('closed');
    breaker.recordFailure();
    expect(breaker.state()).toBe('open');
    expect(breaker.tryAcquire()).toBe(false);
  });

  test('half-open lets exactly one probe through', () => {
    let clock = 0;
    const changes: BreakerState[] = [];
    const breaker = createCircuitBreaker({ failureThreshold: 1, openMs: 100, now: () => clock, onChange: (s) => changes.push(s) });
    breaker.recordFailure();
    clock = 100;
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.state()).toBe('half_open');
    expect(breaker.tryAcquire()).toBe(false);
    breaker.recordSuccess();
    expect(breaker.tryAcquire()).toBe(true);
    expect(changes).toEqual(['open', 'half_open', 'closed']);
  });
});
