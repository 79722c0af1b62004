import { describe, expect, test } from 'bun:test';
import { PAYMENT_STATUSES } from '../model';
import { canTransition, eventFor, isFinal, sourcesOf } from './state-machine';

describe('payment state machine (API.md)', () => {
  test('the only allowed transitions', () => {
    const allowed = PAYMENT_STATUSES.flatMap((from) => PAYMENT_STATUSES.filter((to) => canTransition(from, to)).map((to) => `${from}->${to}`));
    expect(allowed.sort()).toEqual(
      [
        'requires_confirmation->processing',
        'requires_confirmation->requires_capture',
        'requires_confirmation->succeeded',
        'requires_confirmation->failed',
        'requires_confirmation->canceled',
        'processing->requires_capture',
        'processing->succeeded',
        'processing->failed',
        'requires_capture->succeeded',
        'requires_capture->canceled',
      ].sort(),
    );
  });

  test('final statuses have no way out and every entered status has its event', () => {
    for (const status of ['succeeded', 'failed', 'canceled'] as const) {
      expect(isFinal(status)).toBe(true);
      expect(PAYMENT_STATUSES.some((to) => canTransition(status, to))).toBe(false);
    }
    expect(sourcesOf('canceled').sort()).toEqual(['requires_capture', 'requires_confirmation']);
    expect(eventFor('requires_confirmation')).toBeUndefined();
    expect(eventFor('requires_capture')).toBe('payment.requires_capture');
  });
});
