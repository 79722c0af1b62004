import { describe, expect, test } from 'bun:test';
import type { Attempt, NimbusEvent } from '../lib/types';
import { type PaymentDetail, timeline } from './payment-data';

const event = (id: string, type: string, at: string): NimbusEvent => ({ id, type, created_at: at, data: { object: {} } });
const attempt = (id: string, at: string, duration: number): Attempt => ({
  id, refund: null, processor: 'simulator', operation: 'authorize', kind: 'result', outcome: 'declined', code: 'insufficient_funds', attempts: 1, duration_ms: duration, created_at: at,
});

describe('the payment timeline', () => {
  test('a processor call comes before the event its outcome produced, even when recorded with that commit', () => {
    const detail: PaymentDetail = {
      tenant: 'ten_1',
      payment: {} as PaymentDetail['payment'],
      refunds: [],
      // Newest first, as the API lists them.
      events: [event('evt_2', 'payment.failed', '2026-11-30T05:00:00.120Z'), event('evt_1', 'payment.created', '2026-11-30T05:00:00.000Z')],
      attempts: [attempt('att_1', '2026-11-30T05:00:00.125Z', 90)],
      deliveries: new Map(),
    };
    expect(timeline(detail).map((entry) => (entry.kind === 'event' ? entry.event.type : entry.kind))).toEqual(['payment.created', 'attempt', 'payment.failed']);
  });
});
